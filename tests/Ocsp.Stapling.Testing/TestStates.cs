using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling.Testing;

/// <summary>Certificate states as the provider makes them (a registration and one written snapshot), for tests of what reads them.</summary>
internal static class TestStates
{
    /// <summary>The state of a leaf registered with <paramref name="responders"/>, or of a CertID when <paramref name="leaf"/> is null.</summary>
    public static OcspCertificateState Of(
        X509Certificate2? leaf, OcspCertificateId id, X509Certificate2 issuer, IReadOnlyList<Uri> responders, OcspFailure? lastFailure = null, int failures = 0)
    {
        OcspSubject subject = leaf is null ? OcspSubject.Of(id, issuer) : OcspSubject.Of(leaf, issuer);
        var registration = new Registration(leaf, subject, leaf is null ? id.HashAlgorithm : null, responders, responderDisabled: false);
        if (lastFailure is not null)
        {
            registration.Write((Failure: lastFailure, Count: failures), static (state, c) => state with { LastFailure = c.Failure, ConsecutiveFailures = c.Count });
        }

        return OcspCertificateState.Of(registration);
    }
}
