using System.Text.RegularExpressions;

namespace Ocsp.Stapling.Testing;

/// <summary>Real TLS clients against the test server: OpenSSL's s_client and GnuTLS' gnutls-cli.</summary>
public static partial class TlsClients
{
    public static bool HasOpenSsl => ExternalProgram.Find("openssl") is not null;

    public static bool HasGnuTls => ExternalProgram.Find("gnutls-cli") is not null;

    /// <summary>
    /// <c>openssl s_client -status</c>: the OCSP block it printed (between its ===== lines), or null for
    /// "no response sent"; the whole output for diagnostics.
    /// </summary>
    public static async Task<(string? Ocsp, string Output)> OpenSslStatusAsync(int port, string serverName, string caFile, string tlsVersion)
    {
        ProgramResult result = await ExternalProgram.RunAsync(
            "openssl",
            ["s_client", "-connect", $"127.0.0.1:{port}", "-servername", serverName, "-status", tlsVersion, "-CAfile", caFile, "-verify_return_error"],
            timeout: TimeSpan.FromSeconds(30));
        string output = result.StandardOutput + result.StandardError;
        if (result.ExitCode != 0 || !output.Contains("Verify return code: 0 (ok)", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"openssl s_client failed or did not verify the chain ({result.ExitCode}):\n{output}");
        }

        if (output.Contains("OCSP response: no response sent", StringComparison.Ordinal))
        {
            return (null, output);
        }

        Match block = OcspBlock().Match(output);
        return block.Success ? (block.Groups[1].Value.Trim(), output) : throw new InvalidOperationException($"No OCSP block in s_client output:\n{output}");
    }

    /// <summary>What <c>openssl ocsp -resp_text</c> prints for <paramref name="der"/>: the same printer s_client uses for a staple.</summary>
    public static async Task<string> OpenSslResponseTextAsync(byte[] der, string directory)
    {
        string path = Path.Combine(directory, $"staple-{Guid.NewGuid():N}.der");
        await File.WriteAllBytesAsync(path, der);
        ProgramResult result = await ExternalProgram.RunAsync("openssl", ["ocsp", "-respin", path, "-resp_text", "-noverify"]);
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException("openssl ocsp -resp_text failed: " + result.StandardError);
        }

        return result.StandardOutput.Trim();
    }

    /// <summary><c>gnutls-cli --ocsp</c>: verifies chain and staple; returns the staple it saved (null when none) and its output.</summary>
    public static async Task<(byte[]? Staple, string Output, int ExitCode)> GnuTlsAsync(int port, string serverName, string caFile, string directory)
    {
        string saved = Path.Combine(directory, $"gnutls-{Guid.NewGuid():N}.der");
        ProgramResult result = await ExternalProgram.RunAsync(
            "gnutls-cli",
            ["--port", port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--sni-hostname", serverName, "--verify-hostname", serverName,
             "--x509cafile", caFile, "--ocsp", "--save-ocsp", saved, "127.0.0.1"],
            timeout: TimeSpan.FromSeconds(30));
        byte[]? staple = File.Exists(saved) && new FileInfo(saved).Length > 0 ? await File.ReadAllBytesAsync(saved) : null;
        return (staple, result.StandardOutput + result.StandardError, result.ExitCode);
    }

    [GeneratedRegex(@"={20,}\s*\n(OCSP Response Data:.*?)\n={20,}", RegexOptions.Singleline)]
    private static partial Regex OcspBlock();
}
