using System.Net;
using System.Net.Sockets;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tool.Tests;

/// <summary><c>serve</c>'s refusals: each bad start exits with its documented code and says why, before listening.</summary>
public sealed class ServeTests
{
    [Fact]
    public async Task Serve_BadStarts_ExitWithTheirCodes_AndSayWhy()
    {
        using var occupied = new TcpListener(IPAddress.Loopback, 0);
        occupied.Start();
        int port = ((IPEndPoint)occupied.LocalEndpoint).Port;

        ProgramResult nothing = await ToolFixture.RunToolAsync("serve");
        ProgramResult badUrl = await ToolFixture.RunToolAsync("serve", "--allow-responder", "ftp://ocsp.example/");
        ProgramResult missing = await ToolFixture.RunToolAsync("serve", "--cert", "/nonexistent/leaf.pem");
        ProgramResult issuers = await ToolFixture.RunToolAsync("serve", "--allow-responder", "http://ocsp.example/", "--issuer", "/nonexistent/ca.pem");
        ProgramResult inUse = await ToolFixture.RunToolAsync("serve", "--urls", $"http://127.0.0.1:{port}", "--allow-responder", "http://ocsp.example/");

        Assert.True(nothing.ExitCode == 64, nothing.ToString());
        Assert.Contains("Nothing to proxy", nothing.StandardError, StringComparison.Ordinal);
        Assert.True(badUrl.ExitCode == 64, badUrl.ToString());
        Assert.Contains("not an absolute http(s) URL", badUrl.StandardError, StringComparison.Ordinal);
        Assert.True(missing.ExitCode == 66, missing.ToString());
        Assert.Contains("no such file", missing.StandardError, StringComparison.Ordinal);
        Assert.True(issuers.ExitCode == 64, issuers.ToString());
        Assert.Contains("one --issuer per --cert", issuers.StandardError, StringComparison.Ordinal);
        Assert.True(inUse.ExitCode == 73, inUse.ToString());
        Assert.Contains($"Cannot listen on http://127.0.0.1:{port}", inUse.StandardError, StringComparison.Ordinal);
    }
}
