using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling.Testing;

/// <summary>
/// A throw-away PKI built in code: root → intermediate (RSA-2048) → leaves (ECDSA P-256), plus OCSP responder
/// certificates in every shape the validator must tell apart. No binary fixtures.
/// </summary>
public sealed class TestPki : IDisposable
{
    public const string OcspSigningOid = "1.3.6.1.5.5.7.3.9";
    private const string ServerAuthOid = "1.3.6.1.5.5.7.3.1";
    private const string ClientAuthOid = "1.3.6.1.5.5.7.3.2";

    private readonly List<X509Certificate2> _issued = [];

    private TestPki(Uri ocspUrl, DateTimeOffset now)
    {
        OcspUrl = ocspUrl;
        Now = now;
        Root = CreateCa("Ocsp.Stapling Test Root", null, now.AddYears(-4), now.AddYears(11));
        // With an OCSP URL, as a private PKI's issuing CA usually has: client-certificate checks ask about it too (answered for the root).
        Intermediate = CreateCa("Ocsp.Stapling Test Intermediate", Root, now.AddYears(-3), now.AddYears(10), ocspUrl);
        Leaf = IssueLeaf("leaf.test", ocspUrl);
        LeafWithoutAia = IssueLeaf("no-aia.test", null);
        MustStapleLeaf = IssueLeaf("must-staple.test", ocspUrl, mustStaple: true);
        DelegatedResponder = IssueResponder("Delegated OCSP Responder", Intermediate, withOcspSigning: true, now.AddYears(-1), now.AddYears(2));
        ResponderWithoutEku = IssueResponder("Responder Without EKU", Intermediate, withOcspSigning: false, now.AddYears(-1), now.AddYears(2));
        ExpiredResponder = IssueResponder("Expired OCSP Responder", Intermediate, withOcspSigning: true, now.AddYears(-2), now.AddYears(-1));
        ForeignCa = CreateCa("Some Other CA", null, now.AddYears(-4), now.AddYears(11));
        ForeignResponder = IssueResponder("Foreign OCSP Responder", ForeignCa, withOcspSigning: true, now.AddYears(-1), now.AddYears(2));
    }

    /// <summary>The OCSP URL written into the AIA of the leaves.</summary>
    public Uri OcspUrl { get; }

    /// <summary>The instant the PKI's validity periods are centred on.</summary>
    public DateTimeOffset Now { get; }

    public X509Certificate2 Root { get; }

    /// <summary>The issuer of every leaf and of the delegated responders; its AIA names <see cref="OcspUrl"/> (a responder answering for <see cref="Root"/>).</summary>
    public X509Certificate2 Intermediate { get; }

    /// <summary>A server certificate with an AIA OCSP URL.</summary>
    public X509Certificate2 Leaf { get; }

    public X509Certificate2 LeafWithoutAia { get; }

    /// <summary>A server certificate with the TLS Feature extension (status_request).</summary>
    public X509Certificate2 MustStapleLeaf { get; }

    /// <summary>Issued by <see cref="Intermediate"/> with id-kp-OCSPSigning.</summary>
    public X509Certificate2 DelegatedResponder { get; }

    /// <summary>Issued by <see cref="Intermediate"/> without id-kp-OCSPSigning.</summary>
    public X509Certificate2 ResponderWithoutEku { get; }

    /// <summary>Issued by <see cref="Intermediate"/> with id-kp-OCSPSigning, expired a year ago.</summary>
    public X509Certificate2 ExpiredResponder { get; }

    /// <summary>An unrelated CA.</summary>
    public X509Certificate2 ForeignCa { get; }

    /// <summary>An OCSP responder of <see cref="ForeignCa"/>: right EKU, wrong issuer.</summary>
    public X509Certificate2 ForeignResponder { get; }

    /// <summary>Creates a PKI whose leaves point at <paramref name="ocspUrl"/>, valid from years before to years after <paramref name="now"/>.</summary>
    public static TestPki Create(Uri? ocspUrl = null, DateTimeOffset? now = null) =>
        new(ocspUrl ?? new Uri("http://127.0.0.1:9/ocsp"), (now ?? TimeProvider.System.GetUtcNow()).AddSeconds(-1));

    /// <summary>Issues a TLS server certificate from <see cref="Intermediate"/> (ECDSA P-256), with the private key.</summary>
    public X509Certificate2 IssueLeaf(
        string dnsName,
        Uri? ocspUrl,
        bool mustStaple = false,
        byte[]? serialNumber = null,
        DateTimeOffset? notBefore = null,
        DateTimeOffset? notAfter = null,
        X509Certificate2? issuer = null) =>
        Issue(dnsName, ocspUrl, mustStaple, serialNumber, notBefore, notAfter, issuer, ServerAuthOid);

    /// <summary>Issues a TLS client certificate (clientAuth, ECDSA P-256) from <see cref="Intermediate"/>, with the private key.</summary>
    public X509Certificate2 IssueClient(string name, Uri? ocspUrl, X509Certificate2? issuer = null, Uri? crlUrl = null) =>
        Issue(name, ocspUrl, mustStaple: false, serialNumber: null, notBefore: null, notAfter: null, issuer, ClientAuthOid, crlUrl);

    private X509Certificate2 Issue(
        string dnsName, Uri? ocspUrl, bool mustStaple, byte[]? serialNumber, DateTimeOffset? notBefore, DateTimeOffset? notAfter, X509Certificate2? issuer, string purpose,
        Uri? crlUrl = null)
    {
        issuer ??= Intermediate;
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={dnsName}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(purpose)], false));
        var san = new SubjectAlternativeNameBuilder();
        san.AddDnsName(dnsName);
        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        if (ocspUrl is not null)
        {
            request.CertificateExtensions.Add(new X509AuthorityInformationAccessExtension([ocspUrl.AbsoluteUri], null));
        }

        if (crlUrl is not null)
        {
            request.CertificateExtensions.Add(CertificateRevocationListBuilder.BuildCrlDistributionPointExtension([crlUrl.AbsoluteUri]));
        }

        if (mustStaple)
        {
            // TLS Feature (RFC 7633): Features ::= SEQUENCE OF INTEGER { status_request(5) }
            request.CertificateExtensions.Add(new X509Extension("1.3.6.1.5.5.7.1.24", [0x30, 0x03, 0x02, 0x01, 0x05], false));
        }

        using X509Certificate2 issued = Sign(request, issuer, notBefore ?? Now.AddDays(-30), notAfter ?? Now.AddDays(90), serialNumber ?? NewSerial());
        return Track(issued.CopyWithPrivateKey(key));
    }

    /// <summary>Issues an OCSP responder certificate (ECDSA P-256) from <paramref name="issuer"/>.</summary>
    public X509Certificate2 IssueResponder(string name, X509Certificate2 issuer, bool withOcspSigning, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        if (withOcspSigning)
        {
            request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(OcspSigningOid)], false));

            // id-pkix-ocsp-nocheck (RFC 6960 §4.2.2.2.1): clients need not check the responder's own status.
            request.CertificateExtensions.Add(new X509Extension("1.3.6.1.5.5.7.48.1.5", [0x05, 0x00], false));
        }

        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        using X509Certificate2 issued = Sign(request, issuer, notBefore, notAfter, NewSerial());
        return Track(issued.CopyWithPrivateKey(key));
    }

    /// <summary>A random positive 16-byte serial number.</summary>
    public static byte[] NewSerial()
    {
        byte[] serial = RandomNumberGenerator.GetBytes(16);
        serial[0] = (byte)((serial[0] & 0x7F) | 0x01);
        return serial;
    }

    /// <summary>The serial number as OpenSSL's index.txt writes it (upper-case hex of the integer, even length).</summary>
    public static string OpenSslSerial(X509Certificate2 certificate)
    {
        var value = new BigInteger(certificate.SerialNumberBytes.Span, isUnsigned: true, isBigEndian: true);
        string hex = value.ToString("X", System.Globalization.CultureInfo.InvariantCulture);
        hex = hex.TrimStart('0');
        return hex.Length % 2 == 1 ? "0" + hex : hex.Length == 0 ? "00" : hex;
    }

    /// <summary>PEM of a certificate.</summary>
    public static string ToPem(X509Certificate2 certificate) => certificate.ExportCertificatePem() + "\n";

    /// <summary>PKCS#8 PEM of a certificate's private key.</summary>
    public static string PrivateKeyPem(X509Certificate2 certificate)
    {
        AsymmetricAlgorithm key = (AsymmetricAlgorithm?)certificate.GetRSAPrivateKey() ?? certificate.GetECDsaPrivateKey()
            ?? throw new InvalidOperationException($"'{certificate.Subject}' has no private key.");
        using (key)
        {
            return key.ExportPkcs8PrivateKeyPem() + "\n";
        }
    }

    public void Dispose()
    {
        foreach (X509Certificate2 certificate in _issued)
        {
            certificate.Dispose();
        }
    }

    /// <summary>
    /// A client certificate (clientAuth, with its key) of a CA nobody trusts — a root and an intermediate made here, the
    /// intermediate not sent — whose AIA names <paramref name="caIssuers"/> (where its issuer could be downloaded) and
    /// <paramref name="ocsp"/>: what an attacker presents to make a server fetch a URL of its choosing.
    /// </summary>
    public X509Certificate2 IssueForeignClient(string name, Uri caIssuers, Uri ocsp)
    {
        X509Certificate2 root = CreateCa($"Foreign Root {name}", null, Now.AddYears(-1), Now.AddYears(5));
        X509Certificate2 intermediate = CreateCa($"Foreign Intermediate {name}", root, Now.AddYears(-1), Now.AddYears(5));
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest($"CN={name}", key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(ClientAuthOid)], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(intermediate, true, false));
        request.CertificateExtensions.Add(new X509AuthorityInformationAccessExtension([ocsp.AbsoluteUri], [caIssuers.AbsoluteUri]));
        using X509Certificate2 issued = Sign(request, intermediate, Now.AddDays(-1), Now.AddDays(30), NewSerial());
        return Track(issued.CopyWithPrivateKey(key));
    }

    /// <summary>Issues another CA certificate from <paramref name="issuer"/> (RSA-2048), with the private key and an AIA OCSP URL when given.</summary>
    public X509Certificate2 IssueCa(string name, X509Certificate2 issuer, Uri? ocspUrl) => CreateCa(name, issuer, Now.AddYears(-1), Now.AddYears(5), ocspUrl);

    private X509Certificate2 CreateCa(string name, X509Certificate2? issuer, DateTimeOffset notBefore, DateTimeOffset notAfter, Uri? ocspUrl = null)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={name}, O=Ocsp.Stapling Tests", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign | X509KeyUsageFlags.DigitalSignature, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        if (issuer is null)
        {
            return Track(request.CreateSelfSigned(notBefore, notAfter));
        }

        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        if (ocspUrl is not null)
        {
            request.CertificateExtensions.Add(new X509AuthorityInformationAccessExtension([ocspUrl.AbsoluteUri], null));
        }

        using X509Certificate2 issued = request.Create(issuer, notBefore, notAfter, NewSerial());
        return Track(issued.CopyWithPrivateKey(key));
    }

    private static X509Certificate2 Sign(CertificateRequest request, X509Certificate2 issuer, DateTimeOffset notBefore, DateTimeOffset notAfter, byte[] serial)
    {
        // The issuer's key type may differ from the subject's (RSA CA, ECDSA leaf): sign through an explicit generator.
        using RSA? rsa = issuer.GetRSAPrivateKey();
        using ECDsa? ecdsa = rsa is null ? issuer.GetECDsaPrivateKey() : null;
        X509SignatureGenerator generator = rsa is not null
            ? X509SignatureGenerator.CreateForRSA(rsa, RSASignaturePadding.Pkcs1)
            : X509SignatureGenerator.CreateForECDsa(ecdsa ?? throw new InvalidOperationException($"'{issuer.Subject}' has no private key."));
        return request.Create(issuer.SubjectName, generator, notBefore, notAfter, serial);
    }

    private X509Certificate2 Track(X509Certificate2 certificate)
    {
        _issued.Add(certificate);
        return certificate;
    }
}
