namespace Ocsp.Stapling.Tool;

/// <summary>
/// Exit codes. <c>renew</c> returns the number of changed files the server must reload (1–63) so that cron can reload
/// it (a file pushed to HAProxy through its socket needs no reload); every error is 64 or above (sysexits.h values), so
/// "changed" and "failed" never collide. 75 (EX_TEMPFAIL): a file was written but its push to HAProxy failed.
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
    public const int PushFailed = 75;      // written, but HAProxy refused the push or could not be reached: reload it to load the file
}
