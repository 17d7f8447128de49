using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling;

/// <summary>
/// Decides whether an OCSP response may be stapled: never accept what a TLS client would reject.
/// Implements RFC 6960 §3.2 and §4.2.2.2 with the freshness rules of RFC 5019 §4.
/// </summary>
public static class OcspResponseValidator
{
    /// <summary>The OID of <c>id-kp-OCSPSigning</c> (RFC 6960 §4.2.2.2).</summary>
    internal const string OcspSigningOid = "1.3.6.1.5.5.7.3.9";

    /// <summary>Validates <paramref name="response"/> as the status of <paramref name="certificate"/>.</summary>
    /// <param name="response">The DER bytes as received from the responder.</param>
    /// <param name="certificate">The certificate whose status was asked for.</param>
    /// <param name="issuer">The certificate of its issuer.</param>
    /// <param name="now">The current time.</param>
    /// <param name="options">Limits; <see langword="null"/> for the defaults.</param>
    /// <param name="requestNonce">The nonce sent with the request, or empty when none was sent.</param>
    /// <returns>The staple, or the rejection with its reason. This method does not throw for any content of <paramref name="response"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="issuer"/> did not issue <paramref name="certificate"/>.</exception>
    public static OcspValidationResult Validate(
        ReadOnlyMemory<byte> response,
        X509Certificate2 certificate,
        X509Certificate2 issuer,
        DateTimeOffset now,
        OcspValidationOptions? options = null,
        ReadOnlyMemory<byte> requestNonce = default)
    {
        ArgumentNullException.ThrowIfNull(certificate);
        ArgumentNullException.ThrowIfNull(issuer);
        return Validate(response, OcspSubject.Of(certificate, issuer), now, options, requestNonce);
    }

    /// <summary>
    /// Validates <paramref name="response"/> as the status of the certificate a CertID names, without the certificate:
    /// what a caching proxy knows. The checks are the same (signer, CertID in any hash algorithm, time window, nonce).
    /// </summary>
    /// <param name="response">The DER bytes as received from the responder.</param>
    /// <param name="certificateId">The CertID asked about.</param>
    /// <param name="issuer">The certificate of the CA that <paramref name="certificateId"/> names.</param>
    /// <param name="now">The current time.</param>
    /// <param name="options">Limits; <see langword="null"/> for the defaults.</param>
    /// <param name="requestNonce">The nonce sent with the request, or empty when none was sent.</param>
    /// <returns>The staple, or the rejection with its reason. This method does not throw for any content of <paramref name="response"/>.</returns>
    /// <exception cref="ArgumentException"><paramref name="certificateId"/> does not name <paramref name="issuer"/> (issuer name or key hash differs).</exception>
    public static OcspValidationResult Validate(
        ReadOnlyMemory<byte> response,
        OcspCertificateId certificateId,
        X509Certificate2 issuer,
        DateTimeOffset now,
        OcspValidationOptions? options = null,
        ReadOnlyMemory<byte> requestNonce = default)
    {
        ArgumentNullException.ThrowIfNull(certificateId);
        ArgumentNullException.ThrowIfNull(issuer);
        return Validate(response, OcspSubject.Of(certificateId, issuer), now, options, requestNonce);
    }

    internal static OcspValidationResult Validate(
        ReadOnlyMemory<byte> response, OcspSubject subject, DateTimeOffset now, OcspValidationOptions? options, ReadOnlyMemory<byte> requestNonce = default)
    {
        X509Certificate2 issuer = subject.Issuer;
        options ??= OcspValidationOptions.Default;
        if (response.Length > options.MaxResponseSize)
        {
            return OcspValidationResult.Reject(
                OcspValidationFailure.ResponseTooLarge, $"The response is {response.Length} bytes, over the {options.MaxResponseSize}-byte limit.");
        }

        if (!TryParseSuccessful(response, out OcspResponse? parsed, out OcspValidationResult? unusable))
        {
            return unusable;
        }

        if (!parsed.IsBasic)
        {
            return OcspValidationResult.Reject(
                OcspValidationFailure.UnsupportedResponseType, $"The response type {parsed.ResponseType ?? "(none)"} is not id-pkix-ocsp-basic.", parsed);
        }

        if (CheckSigner(parsed, issuer, now, out DateTimeOffset? signerNotAfter) is { } signerFailure)
        {
            return signerFailure;
        }

        if (FindSingle(parsed, subject) is not { } single)
        {
            return OcspValidationResult.Reject(OcspValidationFailure.CertificateIdMismatch, DescribeMismatch(parsed, subject), parsed);
        }

        if (!requestNonce.IsEmpty && !parsed.Nonce.Span.SequenceEqual(requestNonce.Span))
        {
            return OcspValidationResult.Reject(
                OcspValidationFailure.NonceMismatch,
                parsed.HasNonce ? "The response's nonce differs from the request's." : "A nonce was sent but the response has none.",
                parsed);
        }

        return CheckTimes(parsed, single, now, options, signerNotAfter);
    }

    /// <summary>
    /// The time window alone (the same rule as <see cref="Validate(ReadOnlyMemory{byte}, X509Certificate2, X509Certificate2, DateTimeOffset, OcspValidationOptions?, ReadOnlyMemory{byte})"/>
    /// applies: clock skew, nextUpdate, a missing nextUpdate) for a response whose issuer is not at hand; the signature is not checked.
    /// </summary>
    internal static OcspValidationResult ValidateTimes(ReadOnlyMemory<byte> response, DateTimeOffset now, OcspValidationOptions? options = null)
    {
        options ??= OcspValidationOptions.Default;
        if (!TryParseSuccessful(response, out OcspResponse? parsed, out OcspValidationResult? unusable))
        {
            return unusable;
        }

        if (!parsed.IsBasic || parsed.Responses is not [OcspSingleResponse single, ..])
        {
            return OcspValidationResult.Reject(OcspValidationFailure.UnsupportedResponseType, "The response holds no basic single response.", parsed);
        }

        return CheckTimes(parsed, single, now, options, signerNotAfter: null);
    }

    /// <summary>The response parsed, or (<see langword="false"/>) the rejection when it is malformed or not <c>successful</c>.</summary>
    private static bool TryParseSuccessful(
        ReadOnlyMemory<byte> response,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out OcspResponse? parsed,
        [System.Diagnostics.CodeAnalysis.NotNullWhen(false)] out OcspValidationResult? rejection)
    {
        try
        {
            parsed = OcspResponse.Parse(response.Span);
        }
        catch (OcspFormatException ex)
        {
            parsed = null;
            rejection = OcspValidationResult.Reject(OcspValidationFailure.MalformedResponse, ex.Message);
            return false;
        }

        rejection = parsed.Status == OcspResponseStatus.Successful
            ? null
            : OcspValidationResult.Reject(OcspValidationFailure.UnsuccessfulStatus, $"The responder answered '{parsed.Status}'.", parsed);
        return rejection is null;
    }

    private static OcspValidationResult CheckTimes(OcspResponse parsed, OcspSingleResponse single, DateTimeOffset now, OcspValidationOptions options, DateTimeOffset? signerNotAfter)
    {
        if (single.ThisUpdate > now + options.MaxClockSkew)
        {
            return OcspValidationResult.Reject(
                OcspValidationFailure.ThisUpdateInFuture,
                $"thisUpdate {single.ThisUpdate:u} is more than {options.MaxClockSkew} after now ({now:u}).",
                parsed);
        }

        DateTimeOffset nextUpdate;
        if (single.NextUpdate is { } given)
        {
            nextUpdate = given;
        }
        else if (options.MissingNextUpdateLifetime > TimeSpan.Zero)
        {
            nextUpdate = single.ThisUpdate + options.MissingNextUpdateLifetime;
        }
        else
        {
            return OcspValidationResult.Reject(OcspValidationFailure.MissingNextUpdate, "The response has no nextUpdate.", parsed);
        }

        // A nextUpdate past the certificate's notAfter is fine (short-lived certificates); a passed one never is.
        if (nextUpdate <= now)
        {
            return OcspValidationResult.Reject(
                OcspValidationFailure.Expired,
                single.NextUpdate is null
                    ? $"The response has no nextUpdate and its thisUpdate {single.ThisUpdate:u} is older than {options.MissingNextUpdateLifetime}."
                    : $"nextUpdate {nextUpdate:u} has passed (now {now:u}).",
                parsed);
        }

        // A delegated responder's certificate that expires first ends the staple's use there (as certmagic's freshOCSP):
        // clients check that certificate when they verify, so a staple served past it is rejected.
        if (signerNotAfter < nextUpdate)
        {
            nextUpdate = signerNotAfter.Value;
        }

        var staple = new OcspStaple(
            parsed.Encoded.Span,
            single.CertificateId,
            single.Status,
            single.ThisUpdate,
            nextUpdate,
            parsed.ProducedAt!.Value,
            now,
            single.RevocationTime,
            single.RevocationReason)
        {
            ResponseNextUpdate = single.NextUpdate,
            ResponderCertificateNotAfter = signerNotAfter,
        };
        return OcspValidationResult.Valid(staple, parsed);
    }

    private static OcspValidationResult? CheckSigner(OcspResponse parsed, X509Certificate2 issuer, DateTimeOffset now, out DateTimeOffset? signerNotAfter)
    {
        signerNotAfter = null;
        OcspResponderId responderId = parsed.ResponderId!;
        var basic = parsed.Basic!;
        if (ResponderIdMatches(responderId, issuer))
        {
            return OcspSignatures.VerifyResponse(basic, issuer)
                ? null
                : OcspValidationResult.Reject(OcspValidationFailure.BadSignature, $"The signature does not verify with the key of the issuer '{CertificateNames.Subject(issuer)}'.", parsed);
        }

        X509Certificate2? delegated = null;
        foreach (byte[] der in parsed.CertificateEncodings)
        {
            if (SignerCertificates.Load(der) is { } candidate && ResponderIdMatches(responderId, candidate))
            {
                delegated = candidate;
                break;
            }
        }

        if (delegated is null)
        {
            // Some responders encode their ResponderID oddly; a signature by the issuer's own key is authoritative whatever the ID says.
            return OcspSignatures.VerifyResponse(basic, issuer)
                ? null
                : OcspValidationResult.Reject(
                    OcspValidationFailure.UnauthorizedSigner,
                    $"The responder ({responderId}) is not the issuer and no certificate in the response identifies it.",
                    parsed);
        }

        if (!CertificateNames.IsIssuedBy(delegated, issuer) || !OcspSignatures.IsCertificateSignedBy(delegated, issuer))
        {
            return OcspValidationResult.Reject(
                OcspValidationFailure.UnauthorizedSigner,
                $"The responder certificate {CertificateNames.DisplayName(delegated)} was not issued by '{CertificateNames.Subject(issuer)}'.",
                parsed);
        }

        if (!HasOcspSigningUsage(delegated))
        {
            return OcspValidationResult.Reject(
                OcspValidationFailure.UnauthorizedSigner,
                $"The responder certificate {CertificateNames.DisplayName(delegated)} lacks the id-kp-OCSPSigning extended key usage.",
                parsed);
        }

        DateTimeOffset producedAt = parsed.ProducedAt!.Value;
        DateTimeOffset notBefore = delegated.NotBefore.ToUniversalTime();
        DateTimeOffset notAfter = delegated.NotAfter.ToUniversalTime();

        // Clients check the responder certificate at the time they verify, so one valid only at producedAt is not enough either.
        if (producedAt < notBefore || producedAt > notAfter || now < notBefore || now > notAfter)
        {
            return OcspValidationResult.Reject(
                OcspValidationFailure.ResponderCertificateExpired,
                $"The responder certificate '{CertificateNames.Subject(delegated)}' is valid {notBefore:u} to {notAfter:u}; the response was produced {producedAt:u}, now is {now:u}.",
                parsed);
        }

        signerNotAfter = notAfter;
        return OcspSignatures.VerifyResponse(basic, delegated)
            ? null
            : OcspValidationResult.Reject(
                OcspValidationFailure.BadSignature, $"The signature does not verify with the key of the responder '{CertificateNames.Subject(delegated)}'.", parsed);
    }

    private static bool ResponderIdMatches(OcspResponderId id, X509Certificate2 certificate)
    {
        if (id.IsByKey)
        {
            return id.KeyHash.Span.SequenceEqual(HashAlgorithms.Hash(OcspHashAlgorithm.Sha1, certificate.PublicKey.EncodedKeyValue.RawData));
        }

        X500DistinguishedName name = id.Name!;
        return name.RawData.AsSpan().SequenceEqual(certificate.SubjectName.RawData)
            || string.Equals(name.Name, certificate.SubjectName.Name, StringComparison.Ordinal);
    }

    private static bool HasOcspSigningUsage(X509Certificate2 certificate)
    {
        foreach (X509Extension extension in certificate.Extensions)
        {
            if (extension is X509EnhancedKeyUsageExtension usage)
            {
                foreach (var oid in usage.EnhancedKeyUsages)
                {
                    if (oid.Value == OcspSigningOid)
                    {
                        return true;
                    }
                }
            }
        }

        return false;
    }

    private static OcspSingleResponse? FindSingle(OcspResponse parsed, OcspSubject subject)
    {
        // Responders may answer a SHA-1 request with a SHA-256 CertID; compare in whatever algorithm each answer uses.
        foreach (OcspSingleResponse single in parsed.Responses)
        {
            if (single.CertificateId.Equals(subject.Id(single.CertificateId.HashAlgorithm)))
            {
                return single;
            }
        }

        return null;
    }

    private static string DescribeMismatch(OcspResponse parsed, OcspSubject subject)
    {
        string ours = subject.SerialNumberHex;
        if (parsed.Responses.Count == 0)
        {
            return $"The response holds no single response (expected serial {ours}).";
        }

        OcspSingleResponse first = parsed.Responses[0];
        return first.CertificateId.SerialNumber.Span.SequenceEqual(subject.Sha1.SerialNumber.Span)
            ? $"The response is for serial {ours} but from another issuer (issuer name or key hash differs)."
            : $"The response is for serial {first.CertificateId.SerialNumberHex}, not {ours}.";
    }
}
