using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling;

/// <summary>An unsigned OCSP request (RFC 6960 §4.1): one or more CertIDs and an optional nonce, with its DER encoding.</summary>
public sealed class OcspRequest
{
    private readonly byte[] _encoded;
    private readonly byte[]? _nonce;

    internal OcspRequest(IReadOnlyList<OcspCertificateId> certificateIds, byte[]? nonce, byte[] encoded)
    {
        CertificateIds = certificateIds;
        _nonce = nonce;
        _encoded = encoded;
    }

    /// <summary>Gets the CertIDs asked for, in request order. Never empty.</summary>
    public IReadOnlyList<OcspCertificateId> CertificateIds { get; }

    /// <summary>Gets a value indicating whether the request carries a nonce extension.</summary>
    public bool HasNonce => _nonce is not null;

    /// <summary>Gets the nonce value (empty when <see cref="HasNonce"/> is <see langword="false"/>).</summary>
    public ReadOnlyMemory<byte> Nonce => _nonce;

    /// <summary>Gets the DER encoding of the request.</summary>
    public ReadOnlyMemory<byte> Encoded => _encoded;

    /// <summary>Builds a request for <paramref name="certificate"/> issued by <paramref name="issuer"/>.</summary>
    /// <param name="certificate">The certificate whose status is asked for.</param>
    /// <param name="issuer">Its issuer's certificate.</param>
    /// <param name="options">Hash algorithm and nonce; <see langword="null"/> for the RFC 5019 defaults (SHA-1, no nonce).</param>
    /// <returns>The request.</returns>
    /// <exception cref="ArgumentException"><paramref name="issuer"/> did not issue <paramref name="certificate"/>.</exception>
    /// <exception cref="ArgumentOutOfRangeException">The nonce length is outside the RFC 9654 range.</exception>
    public static OcspRequest Create(X509Certificate2 certificate, X509Certificate2 issuer, OcspRequestOptions? options = null)
    {
        options ??= new OcspRequestOptions();
        var id = OcspCertificateId.Create(certificate, issuer, options.HashAlgorithm);
        if (!options.IncludeNonce)
        {
            return Create(id, ReadOnlySpan<byte>.Empty);
        }

        ValidateNonceLength(options.NonceLength, nameof(options));
        return Create(id, RandomNumberGenerator.GetBytes(options.NonceLength));
    }

    /// <summary>Builds a request for one CertID with the given nonce.</summary>
    /// <param name="certificateId">The CertID.</param>
    /// <param name="nonce">The nonce value; empty for none.</param>
    /// <returns>The request.</returns>
    /// <exception cref="ArgumentOutOfRangeException">The nonce is longer than <see cref="OcspRequestOptions.MaxNonceLength"/>.</exception>
    public static OcspRequest Create(OcspCertificateId certificateId, ReadOnlySpan<byte> nonce)
    {
        ArgumentNullException.ThrowIfNull(certificateId);
        byte[]? nonceBytes = null;
        if (!nonce.IsEmpty)
        {
            ValidateNonceLength(nonce.Length, nameof(nonce));
            nonceBytes = nonce.ToArray();
        }

        return new OcspRequest([certificateId], nonceBytes, OcspRequestCodec.Encode(certificateId, nonceBytes));
    }

    /// <summary>Decodes a DER-encoded OCSP request, for example one received by a proxy.</summary>
    /// <param name="encoded">The DER bytes.</param>
    /// <returns>The decoded request.</returns>
    /// <exception cref="OcspFormatException">The bytes are not an OCSP request, or it names a hash algorithm this library does not know.</exception>
    public static OcspRequest Decode(ReadOnlySpan<byte> encoded) => OcspRequestCodec.Decode(encoded);

    private static void ValidateNonceLength(int length, string paramName)
    {
        if (length is < OcspRequestOptions.MinNonceLength or > OcspRequestOptions.MaxNonceLength)
        {
            throw new ArgumentOutOfRangeException(
                paramName, length, $"An OCSP nonce must be {OcspRequestOptions.MinNonceLength} to {OcspRequestOptions.MaxNonceLength} octets long (RFC 9654).");
        }
    }
}
