using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// The responder certificates embedded in responses, loaded once per distinct certificate: a responder embeds the same
/// delegated certificate in every response, and loading one costs about 0.3 ms. Never handed out of the validator.
/// </summary>
internal static class SignerCertificates
{
    private static readonly BoundedCache<X509Certificate2?> Cache = new(256);

    /// <summary>The certificate of <paramref name="der"/>, or <see langword="null"/> when .NET cannot load it.</summary>
    public static X509Certificate2? Load(byte[] der) =>
        Cache.GetOrAdd(Convert.ToBase64String(SHA256.HashData(der)), static (_, bytes) =>
        {
            try
            {
                return X509CertificateLoader.LoadCertificate(bytes);
            }
            catch (CryptographicException)
            {
                return null;
            }
        }, der);
}
