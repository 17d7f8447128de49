namespace Ocsp.Stapling;

/// <summary>
/// What <see cref="IOcspCertificateRegistry.RefreshAsync(System.Security.Cryptography.X509Certificates.X509Certificate2, CancellationToken)"/> achieved: the validated response now held, and when the
/// attempt failed, why. A failed refresh keeps the previous response while it is valid, so both can be set.
/// </summary>
public sealed class OcspRefreshResult
{
    internal OcspRefreshResult(OcspStaple? response, bool isServed, string source, string? failureReason, string? failureMessage, OcspValidationFailure validationFailure)
    {
        Response = response;
        IsServed = isServed;
        Source = source;
        FailureReason = failureReason;
        FailureMessage = failureMessage;
        ValidationFailure = validationFailure;
    }

    /// <summary>Gets the validated response held now and valid now, whatever its status; <see langword="null"/> when there is none.</summary>
    public OcspStaple? Response { get; }

    /// <summary>Gets a value indicating whether <see cref="Response"/> is what handshakes staple (good, or revoked with <see cref="OcspStaplingOptions.StapleRevoked"/>).</summary>
    public bool IsServed { get; }

    /// <summary>Gets where the response came from this time: <c>responder</c>, <c>cache</c> (the shared store), or <c>memory</c> (nothing was asked: held, or inside the failure back-off).</summary>
    public string Source { get; }

    /// <summary>Gets a value indicating whether the attempt succeeded (<see cref="FailureReason"/> is <see langword="null"/>).</summary>
    public bool Succeeded => FailureReason is null;

    /// <summary>Gets the failure's reason code (as in <see cref="OcspStapleFailedEventArgs.Reason"/>), or <see langword="null"/> on success.</summary>
    public string? FailureReason { get; }

    /// <summary>Gets the failure's explanation, or <see langword="null"/> on success.</summary>
    public string? FailureMessage { get; }

    /// <summary>Gets the validator's code when a response was rejected, otherwise <see cref="OcspValidationFailure.None"/>.</summary>
    public OcspValidationFailure ValidationFailure { get; }
}
