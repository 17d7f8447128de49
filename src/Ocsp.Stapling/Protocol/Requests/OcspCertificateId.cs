using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling;

/// <summary>
/// An OCSP <c>CertID</c> (RFC 6960 §4.1.1): the hash algorithm, the hashes of the issuer's name and public key,
/// and the certificate's serial number. Immutable; equal when all four parts are equal.
/// </summary>
public sealed class OcspCertificateId : IEquatable<OcspCertificateId>
{
    private readonly byte[] _issuerNameHash;
    private readonly byte[] _issuerKeyHash;
    private readonly byte[] _serialNumber;
    private string? _cacheKey;

    /// <summary>Initializes a new instance from its four parts.</summary>
    /// <param name="hashAlgorithm">The hash algorithm of the two issuer hashes.</param>
    /// <param name="issuerNameHash">The hash of the DER encoding of the issuer's distinguished name.</param>
    /// <param name="issuerKeyHash">The hash of the issuer's public key (the BIT STRING value, RFC 6960 §4.1.1).</param>
    /// <param name="serialNumber">The serial number, big-endian as encoded in the DER INTEGER.</param>
    /// <exception cref="ArgumentException">A hash has the wrong length for <paramref name="hashAlgorithm"/>, or the serial number is empty.</exception>
    public OcspCertificateId(OcspHashAlgorithm hashAlgorithm, ReadOnlySpan<byte> issuerNameHash, ReadOnlySpan<byte> issuerKeyHash, ReadOnlySpan<byte> serialNumber)
    {
        int size = HashAlgorithms.HashSize(hashAlgorithm);
        if (issuerNameHash.Length != size)
        {
            throw new ArgumentException($"The issuer name hash must be {size} bytes for {hashAlgorithm}.", nameof(issuerNameHash));
        }

        if (issuerKeyHash.Length != size)
        {
            throw new ArgumentException($"The issuer key hash must be {size} bytes for {hashAlgorithm}.", nameof(issuerKeyHash));
        }

        if (serialNumber.IsEmpty)
        {
            throw new ArgumentException("The serial number must not be empty.", nameof(serialNumber));
        }

        HashAlgorithm = hashAlgorithm;
        _issuerNameHash = issuerNameHash.ToArray();
        _issuerKeyHash = issuerKeyHash.ToArray();
        _serialNumber = NormalizeSerial(serialNumber);
    }

    /// <summary>Gets the hash algorithm of the issuer hashes.</summary>
    public OcspHashAlgorithm HashAlgorithm { get; }

    /// <summary>Gets the hash of the issuer's distinguished name.</summary>
    public ReadOnlyMemory<byte> IssuerNameHash => _issuerNameHash;

    /// <summary>Gets the hash of the issuer's public key.</summary>
    public ReadOnlyMemory<byte> IssuerKeyHash => _issuerKeyHash;

    /// <summary>Gets the serial number: big-endian, minimal two's complement as in a DER INTEGER.</summary>
    public ReadOnlyMemory<byte> SerialNumber => _serialNumber;

    /// <summary>
    /// Gets a value indicating whether the serial number fits RFC 5280 §4.1.2.2 (at most 20 octets; a DER INTEGER of a
    /// positive 20-octet value takes a 21st, leading zero): a CA never issues a longer one, so no responder can vouch for it.
    /// </summary>
    internal bool HasConformingSerial => _serialNumber.Length <= MaxSerialOctets || (_serialNumber.Length == MaxSerialOctets + 1 && _serialNumber[0] == 0);

    /// <summary>RFC 5280 §4.1.2.2: conforming CAs use serial numbers of at most 20 octets.</summary>
    internal const int MaxSerialOctets = 20;

    /// <summary>Gets the serial number as upper-case hexadecimal, as certificate tools print it.</summary>
    public string SerialNumberHex => Convert.ToHexString(_serialNumber);

    /// <summary>How logs and pages name a certificate known only by this CertID and its <paramref name="issuer"/>.</summary>
    internal string DisplayName(X509Certificate2 issuer) => $"serial {SerialNumberHex} of '{CertificateNames.Subject(issuer)}'";

    /// <summary>
    /// Gets a key that identifies this certificate across processes and machines:
    /// hash algorithm, issuer key hash and serial number (the issuer name hash adds nothing the key hash does not fix).
    /// </summary>
    /// <value>For example <c>sha1-5168ff90af0207753cccd9656462a212b859723b-0a1b</c>.</value>
    public string CacheKey => _cacheKey ??= string.Concat(
        HashAlgorithm.ToString().ToLowerInvariant(), "-", Convert.ToHexStringLower(_issuerKeyHash), "-", Convert.ToHexStringLower(_serialNumber));

    /// <summary>Computes the CertID of <paramref name="certificate"/> as issued by <paramref name="issuer"/>.</summary>
    /// <param name="certificate">The certificate whose status is asked for.</param>
    /// <param name="issuer">The certificate of the CA that issued <paramref name="certificate"/>.</param>
    /// <param name="hashAlgorithm">The hash algorithm. The default value is <see cref="OcspHashAlgorithm.Sha1"/> (RFC 5019).</param>
    /// <returns>The CertID.</returns>
    /// <exception cref="ArgumentException"><paramref name="issuer"/>'s subject is not <paramref name="certificate"/>'s issuer.</exception>
    public static OcspCertificateId Create(X509Certificate2 certificate, X509Certificate2 issuer, OcspHashAlgorithm hashAlgorithm = OcspHashAlgorithm.Sha1)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(issuer);
        CertificateNames.EnsureIssuedBy(certificate, issuer, nameof(issuer));

        // RFC 6960 §4.1.1: the name hash is over the DER of the issuer field of the certificate being checked,
        // the key hash over the value of the issuer's subjectPublicKey BIT STRING (without tag, length and unused-bits octet).
        return new OcspCertificateId(
            hashAlgorithm,
            HashAlgorithms.Hash(hashAlgorithm, certificate.IssuerName.RawData),
            HashAlgorithms.Hash(hashAlgorithm, issuer.PublicKey.EncodedKeyValue.RawData),
            certificate.SerialNumberBytes.Span);
    }

    /// <summary>
    /// Computes the CertID of the certificate with <paramref name="serialNumber"/> issued by <paramref name="issuer"/>,
    /// without the certificate itself (a caching proxy knows only what a request names). The name hash is over the
    /// issuer's subject name, which a certificate's issuer field repeats byte for byte.
    /// </summary>
    /// <param name="issuer">The certificate of the issuing CA.</param>
    /// <param name="serialNumber">The serial number, big-endian as in the DER INTEGER.</param>
    /// <param name="hashAlgorithm">The hash algorithm. The default value is <see cref="OcspHashAlgorithm.Sha1"/> (RFC 5019).</param>
    /// <returns>The CertID.</returns>
    /// <exception cref="ArgumentException"><paramref name="serialNumber"/> is empty.</exception>
    public static OcspCertificateId Create(X509Certificate2 issuer, ReadOnlySpan<byte> serialNumber, OcspHashAlgorithm hashAlgorithm = OcspHashAlgorithm.Sha1)
    {
        ArgumentNullException.ThrowIfNull(issuer);
        return new OcspCertificateId(
            hashAlgorithm,
            HashAlgorithms.Hash(hashAlgorithm, issuer.SubjectName.RawData),
            HashAlgorithms.Hash(hashAlgorithm, issuer.PublicKey.EncodedKeyValue.RawData),
            serialNumber);
    }

    /// <summary>Returns whether this CertID names a certificate of <paramref name="issuer"/>: both issuer hashes match, in this CertID's hash algorithm.</summary>
    /// <param name="issuer">A CA certificate.</param>
    /// <returns><see langword="true"/> when the issuer name hash and the issuer key hash are those of <paramref name="issuer"/>.</returns>
    public bool IsIssuedBy(X509Certificate2 issuer)
    {
        ArgumentNullException.ThrowIfNull(issuer);
        return _issuerKeyHash.AsSpan().SequenceEqual(HashAlgorithms.Hash(HashAlgorithm, issuer.PublicKey.EncodedKeyValue.RawData))
            && _issuerNameHash.AsSpan().SequenceEqual(HashAlgorithms.Hash(HashAlgorithm, issuer.SubjectName.RawData));
    }

    /// <summary>Returns this certificate's CertID in another hash algorithm (this instance when it is already in it).</summary>
    /// <param name="issuer">The issuer this CertID names (see <see cref="IsIssuedBy"/>).</param>
    /// <param name="hashAlgorithm">The hash algorithm wanted.</param>
    /// <returns>The CertID of the same serial number and issuer in <paramref name="hashAlgorithm"/>.</returns>
    /// <exception cref="ArgumentException">This CertID does not name <paramref name="issuer"/>.</exception>
    public OcspCertificateId WithHashAlgorithm(X509Certificate2 issuer, OcspHashAlgorithm hashAlgorithm)
    {
        if (!IsIssuedBy(issuer))
        {
            throw new ArgumentException($"The CertID {this} does not name '{CertificateNames.Subject(issuer)}' as its issuer (issuer name or key hash differs).", nameof(issuer));
        }

        return hashAlgorithm == HashAlgorithm ? this : Create(issuer, _serialNumber, hashAlgorithm);
    }

    /// <inheritdoc />
    public bool Equals(OcspCertificateId? other) =>
        other is not null
        && HashAlgorithm == other.HashAlgorithm
        && _serialNumber.AsSpan().SequenceEqual(other._serialNumber)
        && _issuerKeyHash.AsSpan().SequenceEqual(other._issuerKeyHash)
        && _issuerNameHash.AsSpan().SequenceEqual(other._issuerNameHash);

    /// <inheritdoc />
    public override bool Equals(object? obj) => Equals(obj as OcspCertificateId);

    /// <inheritdoc />
    public override int GetHashCode()
    {
        var hash = default(HashCode);
        hash.Add(HashAlgorithm);
        hash.AddBytes(_serialNumber);
        hash.AddBytes(_issuerKeyHash);
        return hash.ToHashCode();
    }

    /// <inheritdoc />
    public override string ToString() => $"CertID({HashAlgorithm}, serial {SerialNumberHex}, issuer key {Convert.ToHexStringLower(_issuerKeyHash)})";

    private static byte[] NormalizeSerial(ReadOnlySpan<byte> serial)
    {
        // Strip redundant leading octets so that a serial read from a certificate and one read from a DER INTEGER compare equal.
        int start = 0;
        while (start < serial.Length - 1
            && ((serial[start] == 0x00 && serial[start + 1] < 0x80) || (serial[start] == 0xFF && serial[start + 1] >= 0x80)))
        {
            start++;
        }

        return serial[start..].ToArray();
    }
}
