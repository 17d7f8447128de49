namespace Ocsp.Stapling.Internal;

/// <summary>Why a context carries no staple: the closed reason, and the words for logs, errors and the status page.</summary>
internal sealed record NotStapling(OcspNotStaplingReason Reason, string Detail)
{
    public override string ToString() => Detail;
}
