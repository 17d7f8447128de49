namespace Ocsp.Stapling.Tool;

/// <summary>
/// Exit codes. <c>renew</c> returns the number of files it changed (1–63) so that cron can reload the server; every error
/// is 64 or above (sysexits.h values), so "changed" and "failed" never collide.
/// </summary>
internal static class ExitCodes
{
    public const int Ok = 0;
    public const int NotValid = 1;         // status: a listed certificate has no valid response
    public const int NotGood = 2;          // fetch: a valid response, but revoked or unknown; nothing written
    public const int MaxChanged = 63;
    public const int Usage = 64;           // bad command line or configuration file
    public const int BadInput = 65;        // unreadable certificate, wrong issuer, malformed response file
    public const int NoInput = 66;         // a file that does not exist
    public const int FetchFailed = 69;     // the responder gave no valid response
    public const int CannotWrite = 73;     // the output could not be written
}
