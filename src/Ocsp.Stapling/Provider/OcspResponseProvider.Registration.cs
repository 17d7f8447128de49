using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;

namespace Ocsp.Stapling.Internal;

/// <summary>Registering and unregistering certificates: by certificate and issuer, and in bulk. By CertID: <c>OcspResponseProvider.CertificateIds.cs</c>.</summary>
internal sealed partial class OcspResponseProvider
{
    public override bool Register(X509Certificate2 certificate, X509Certificate2 issuer)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(issuer);
        return Add(certificate, issuer, _time.GetUtcNow(), bulk: false) is not null;
    }

    public override int RegisterAll(IEnumerable<(X509Certificate2 Certificate, X509Certificate2 Issuer)> certificates)
    {
        ArgumentNullException.ThrowIfNull(certificates);
        (X509Certificate2 Certificate, X509Certificate2 Issuer)[] pairs = [.. certificates];
        for (int i = 0; i < pairs.Length; i++)
        {
            (X509Certificate2? certificate, X509Certificate2? issuer) = pairs[i];
            if (certificate is null || issuer is null)
            {
                throw new ArgumentException($"Element {i} has no {(certificate is null ? "certificate" : "issuer")}; nothing was registered.", nameof(certificates));
            }

            if (!CertificateNames.IsIssuedBy(certificate, issuer))
            {
                throw new ArgumentException(
                    $"Element {i}: '{CertificateNames.Subject(issuer)}' is not the issuer of '{CertificateNames.Subject(certificate)}' (its issuer is '{CertificateNames.Issuer(certificate)}'); nothing was registered.", nameof(certificates));
            }
        }

        int added = 0, mustStaple = 0, withoutResponder = 0;
        DateTimeOffset now = _time.GetUtcNow();
        foreach ((X509Certificate2 certificate, X509Certificate2 issuer) in pairs)
        {
            if (Add(certificate, issuer, now, bulk: true) is { } registration)
            {
                added++;
                mustStaple += certificate.IsMustStaple() ? 1 : 0;
                withoutResponder += registration.HasResponder ? 0 : 1;
            }
        }

        if (pairs.Length > 0)
        {
            Log.CertificatesRegistered(_logger, added, pairs.Length - added, mustStaple, withoutResponder);
        }

        return added;
    }

    public override bool Unregister(X509Certificate2 certificate)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        if (_store.Remove(certificate, out OcspStaple? served) is not { } registration)
        {
            return false;
        }

        Log.CertificateUnregistered(_logger, registration.DisplayName);
        X509Certificate2 leaf = registration.Certificate!; // found by certificate
        _events.Unregistered(new OcspCertificateEventArgs(leaf, registration.Issuer));
        if (served is not null)
        {
            _events.Removed(new OcspStapleRemovedEventArgs(leaf, served, OcspStapleRemovalReason.Unregistered));
        }

        return true;
    }

    /// <summary>Registers one certificate, due for its first fetch at <paramref name="now"/>; <see langword="null"/> when it already was.</summary>
    private Registration? Add(X509Certificate2 certificate, X509Certificate2 issuer, DateTimeOffset now, bool bulk)
    {
        if (_store.Find(certificate) is not null)
        {
            return null;
        }

        var registration = Registration.Create(certificate, issuer, _fetch);
        if (!_store.TryAdd(registration))
        {
            return null;
        }

        string? noResponder = registration.HasResponder ? null : registration.ResponderDisabled ? "disabled by override" : "no OCSP URL in AIA and no override";
        if (bulk)
        {
            // One summary line for the list; each certificate at Debug (its name and list made only when logged).
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                string listed = noResponder is null ? string.Join(", ", registration.ResponderUris) : "none: " + noResponder;
                Log.CertificateRegisteredInBulk(_logger, registration.DisplayName, certificate.IsMustStaple(), listed);
            }
        }
        else if (noResponder is null)
        {
            Log.CertificateRegistered(_logger, registration.DisplayName, certificate.IsMustStaple(), string.Join(", ", registration.ResponderUris));
        }
        else
        {
            // Once, at registration, and never again (no retries, no outage): a Warning when the certificate names no
            // responder, since nothing will be stapled for it; an override that disables it is the operator's choice.
            Log.NoResponder(_logger, registration.ResponderDisabled ? LogLevel.Information : LogLevel.Warning, registration.DisplayName, noResponder);
        }

        _scheduler.Schedule(registration, now);
        _events.Registered(new OcspCertificateEventArgs(certificate, issuer));
        return registration;
    }
}
