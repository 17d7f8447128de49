using System.Diagnostics.CodeAnalysis;

namespace Ocsp.Stapling;

/// <summary>The outcome of <see cref="OcspResponseValidator.Validate(ReadOnlyMemory{byte}, System.Security.Cryptography.X509Certificates.X509Certificate2, System.Security.Cryptography.X509Certificates.X509Certificate2, DateTimeOffset, OcspValidationOptions?, ReadOnlyMemory{byte})"/>: a staple, or a rejection with its reason.</summary>
public sealed class OcspValidationResult
{
    private OcspValidationResult(OcspValidationFailure failure, string message, OcspStaple? staple, OcspResponse? response)
    {
        Failure = failure;
        Message = message;
        Staple = staple;
        Response = response;
    }

    /// <summary>Gets a value indicating whether the response was accepted.</summary>
    [MemberNotNullWhen(true, nameof(Staple), nameof(Response))]
    public bool IsValid => Failure == OcspValidationFailure.None;

    /// <summary>Gets the rejection reason, or <see cref="OcspValidationFailure.None"/>.</summary>
    public OcspValidationFailure Failure { get; }

    /// <summary>Gets a human-readable explanation, suitable for logs.</summary>
    public string Message { get; }

    /// <summary>Gets the staple when the response was accepted.</summary>
    public OcspStaple? Staple { get; }

    /// <summary>Gets the decoded response, when decoding got that far.</summary>
    public OcspResponse? Response { get; }

    /// <inheritdoc />
    public override string ToString() => IsValid ? $"Valid: {Staple}" : $"{Failure}: {Message}";

    internal static OcspValidationResult Valid(OcspStaple staple, OcspResponse response) =>
        new(OcspValidationFailure.None, $"Accepted: {staple}", staple, response);

    internal static OcspValidationResult Reject(OcspValidationFailure failure, string message, OcspResponse? response = null) =>
        new(failure, message, null, response);
}
