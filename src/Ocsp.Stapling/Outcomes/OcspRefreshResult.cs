namespace Ocsp.Stapling;

/// <summary>
/// What a refresh (<see cref="OcspCertificateRegistry.RefreshAsync(System.Security.Cryptography.X509Certificates.X509Certificate2, CancellationToken)"/>)
/// achieved: the validated response now held, where it came from, and when the attempt failed, why. A failed refresh
/// keeps the previous response while it is valid, so <see cref="Response"/> and <see cref="Failure"/> can both be set.
/// </summary>
public sealed class OcspRefreshResult
{
    internal OcspRefreshResult(OcspStaple? response, bool isServed, OcspStapleSource source, OcspFailure? failure)
    {
        Response = response;
        IsServed = isServed;
        Source = source;
        Failure = failure;
    }

    /// <summary>Gets the validated response held now and valid now, whatever its status; <see langword="null"/> when there is none.</summary>
    public OcspStaple? Response { get; }

    /// <summary>Gets a value indicating whether <see cref="Response"/> is what handshakes staple (good, or revoked with <see cref="OcspStaplingOptions.StapleRevoked"/>).</summary>
    public bool IsServed { get; }

    /// <summary>
    /// Gets what was asked this time: <see cref="OcspStapleSource.Responder"/>, <see cref="OcspStapleSource.SharedStore"/>
    /// (its response was valid and not yet due), or <see cref="OcspStapleSource.Memory"/> (nobody: inside the failure
    /// back-off, or no responder to ask).
    /// </summary>
    public OcspStapleSource Source { get; }

    /// <summary>Gets why the attempt failed, or <see langword="null"/> when it succeeded.</summary>
    public OcspFailure? Failure { get; }

    /// <summary>Gets the responder whose answer <see cref="Response"/> is, when one was asked this time (a caching front tracks its backends with it).</summary>
    internal Uri? AnsweredBy { get; init; }

    /// <summary>Gets a value indicating whether the attempt succeeded (<see cref="Failure"/> is <see langword="null"/>).</summary>
    public bool Succeeded => Failure is null;
}
