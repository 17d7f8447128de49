using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Internal;
using Org.BouncyCastle.Asn1.Ocsp;

namespace Ocsp.Stapling;

/// <summary>
/// A decoded OCSP response (RFC 6960 §4.2). Decoding checks structure only: use
/// <see cref="OcspResponseValidator"/> before trusting anything in it.
/// </summary>
public sealed class OcspResponse
{
    /// <summary>The OID of the basic response type, <c>id-pkix-ocsp-basic</c>.</summary>
    public const string BasicResponseTypeOid = "1.3.6.1.5.5.7.48.1.1";

    private readonly byte[] _encoded;
    private readonly byte[]? _nonce;
    private readonly Lazy<IReadOnlyList<X509Certificate2>> _certificates;

    internal OcspResponse(byte[] encoded, OcspResponseStatus status)
        : this(encoded, status, null, null, null, [], null, [], null)
    {
    }

    internal OcspResponse(
        byte[] encoded,
        OcspResponseStatus status,
        string? responseType,
        DateTimeOffset? producedAt,
        OcspResponderId? responderId,
        IReadOnlyList<OcspSingleResponse> responses,
        byte[]? nonce,
        IReadOnlyList<byte[]> certificates,
        BasicOcspResponse? basic)
    {
        _encoded = encoded;
        Status = status;
        ResponseType = responseType;
        ProducedAt = producedAt;
        ResponderId = responderId;
        Responses = responses;
        _nonce = nonce;
        CertificateEncodings = certificates;
        _certificates = new Lazy<IReadOnlyList<X509Certificate2>>(() => LoadCertificates(certificates));
        Basic = basic;
    }

    /// <summary>Gets the response status. Only <see cref="OcspResponseStatus.Successful"/> responses carry a body.</summary>
    public OcspResponseStatus Status { get; }

    /// <summary>Gets the OID of the response type, or <see langword="null"/> when the response has no body.</summary>
    public string? ResponseType { get; }

    /// <summary>Gets a value indicating whether this is a successful basic response, the only kind that can be stapled.</summary>
    public bool IsBasic => Basic is not null;

    /// <summary>Gets the time the responder signed the response, for basic responses.</summary>
    public DateTimeOffset? ProducedAt { get; }

    /// <summary>Gets the responder's identifier, for basic responses.</summary>
    public OcspResponderId? ResponderId { get; }

    /// <summary>
    /// Gets the single responses, in response order. Single responses whose CertID uses a hash algorithm other than
    /// SHA-1/256/384/512 are omitted: no certificate of ours can match them.
    /// </summary>
    public IReadOnlyList<OcspSingleResponse> Responses { get; }

    /// <summary>Gets a value indicating whether the response carries a nonce extension.</summary>
    public bool HasNonce => _nonce is not null;

    /// <summary>Gets the nonce (empty when <see cref="HasNonce"/> is <see langword="false"/>).</summary>
    public ReadOnlyMemory<byte> Nonce => _nonce;

    /// <summary>
    /// Gets the certificates embedded in the response (a delegated responder's certificate and chain, if any), loaded on
    /// first access; the caller owns them. A certificate that .NET cannot load is left out.
    /// </summary>
    public IReadOnlyList<X509Certificate2> Certificates => _certificates.Value;

    /// <summary>Gets the DER encodings of the embedded certificates, in response order.</summary>
    internal IReadOnlyList<byte[]> CertificateEncodings { get; }

    /// <summary>Gets the DER encoding as received.</summary>
    public ReadOnlyMemory<byte> Encoded => _encoded;

    internal BasicOcspResponse? Basic { get; }

    /// <summary>Decodes a DER-encoded OCSP response.</summary>
    /// <param name="encoded">The DER bytes.</param>
    /// <returns>The decoded response.</returns>
    /// <exception cref="OcspFormatException">The bytes are not a well-formed OCSP response.</exception>
    public static OcspResponse Parse(ReadOnlySpan<byte> encoded) => OcspResponseCodec.Decode(encoded.ToArray());

    private static X509Certificate2[] LoadCertificates(IReadOnlyList<byte[]> encodings)
    {
        var loaded = new List<X509Certificate2>(encodings.Count);
        foreach (byte[] der in encodings)
        {
            try
            {
                loaded.Add(X509CertificateLoader.LoadCertificate(der));
            }
            catch (System.Security.Cryptography.CryptographicException)
            {
                // Not a certificate .NET can use: it cannot be the signer either.
            }
        }

        return [.. loaded];
    }
}
