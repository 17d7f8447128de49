using System.Globalization;
using System.Net;
using Microsoft.Extensions.DependencyInjection;

namespace Ocsp.Stapling.Samples;

/// <summary>Command line of the sample: no certificate arguments = demo mode.</summary>
internal sealed class SampleArguments
{
    /// <summary>The help text of the sample <paramref name="program"/>, whose server is <paramref name="what"/> (for example "Kestrel").</summary>
    public static string Usage(string program, string what, int defaultPort) => $"""
        {what} with OCSP stapling (Ocsp.Stapling sample)

        With no certificate arguments: creates a demo PKI, starts a local OCSP responder on 127.0.0.1 and
        serves TLS with a stapled demo certificate.

        Usage:
          {program} [options]
          {program} --cert fullchain.pem --key privkey.pem [--chain chain.pem] [options]
          {program} --pfx site.pfx [--password secret] [options]

        Options:
          --port N        TLS port (default {defaultPort}; 0 picks a free one)
          --listen ADDR   address to listen on (default 127.0.0.1)
          --cache DIR     OCSP response cache directory (default: <demo dir>/cache, or the library default)
          --redis CONFIG  share OCSP responses through Redis instead (a StackExchange.Redis configuration,
                          e.g. 127.0.0.1:6379): servers of a fleet ask each responder once between them
          --dir DIR       where demo mode writes its PKI (default: <temp>/ocsp-stapling-demo)
          --client-ca FILE
                          require client certificates (mTLS) that chain to the CA(s) in FILE (PEM), and check
                          their revocation by OCSP (demo mode writes <dir>/client-ca.pem for it, and client.pem/
                          client.key, good, and client-revoked.pem/client-revoked.key, revoked)
          --client-revocation fail-closed|fail-open
                          with --client-ca: reject (fail-closed, the default) or accept (fail-open) a client
                          certificate without a valid OCSP answer; revoked is always rejected
          -h, --help      this text
        """;

    public string? Certificate { get; private set; }

    public string? Key { get; private set; }

    public string? Chain { get; private set; }

    public string? Pfx { get; private set; }

    public string? Password { get; private set; }

    public int Port { get; private set; }

    public IPAddress Listen { get; private set; } = IPAddress.Loopback;

    public string? CacheDirectory { get; private set; }

    /// <summary>Gets the StackExchange.Redis configuration of a shared store, or <see langword="null"/>.</summary>
    public string? Redis { get; private set; }

    public string DemoDirectory { get; private set; } = Path.Combine(Path.GetTempPath(), "ocsp-stapling-demo");

    public bool Help { get; private set; }

    /// <summary>Gets the PEM file of the CAs client certificates must chain to (mTLS), or <see langword="null"/>.</summary>
    public string? ClientCa { get; private set; }

    /// <summary>Gets what happens to a client certificate without a valid OCSP answer (with <see cref="ClientCa"/>).</summary>
    public OcspClientFailureMode ClientRevocation { get; private set; } = OcspClientFailureMode.FailClosed;

    private bool ClientRevocationGiven { get; set; }

    public bool IsDemo => Certificate is null && Pfx is null;

    /// <summary>
    /// Parses <paramref name="args"/>, or prints why not (exit code 2) or the help (exit code 0) and returns
    /// <see langword="null"/>, with the code to exit with in <paramref name="exitCode"/>.
    /// </summary>
    public static SampleArguments? ParseOrPrintUsage(string[] args, string program, string what, int defaultPort, out int exitCode)
    {
        exitCode = 0;
        try
        {
            SampleArguments parsed = Parse(args, defaultPort);
            if (!parsed.Help)
            {
                return parsed;
            }

            Console.WriteLine(Usage(program, what, defaultPort));
        }
        catch (ArgumentException ex)
        {
            Console.Error.WriteLine(ex.Message);
            Console.Error.WriteLine();
            Console.Error.WriteLine(Usage(program, what, defaultPort));
            exitCode = 2;
        }

        return null;
    }

    /// <summary>Shares responses through <see cref="Redis"/> when given (abortConnect off: a Redis down at start is retried, not fatal).</summary>
    public void UseStore(IOcspStaplingBuilder stapling)
    {
        if (Redis is not null)
        {
            var options = StackExchange.Redis.ConfigurationOptions.Parse(Redis);
            options.AbortOnConnectFail = false;
            stapling.UseDistributedCache(_ => new Microsoft.Extensions.Caching.StackExchangeRedis.RedisCache(
                new Microsoft.Extensions.Caching.StackExchangeRedis.RedisCacheOptions { ConfigurationOptions = options }));
        }
    }

    /// <summary>Parses <paramref name="args"/>; throws <see cref="ArgumentException"/> with a message for the user.</summary>
    public static SampleArguments Parse(string[] args, int defaultPort)
    {
        var parsed = new SampleArguments { Port = defaultPort };
        for (int i = 0; i < args.Length; i++)
        {
            string name = args[i];
            string Value() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{name} needs a value.");
            switch (name)
            {
                case "--cert": parsed.Certificate = Value(); break;
                case "--key": parsed.Key = Value(); break;
                case "--chain": parsed.Chain = Value(); break;
                case "--pfx": parsed.Pfx = Value(); break;
                case "--password": parsed.Password = Value(); break;
                case "--cache": parsed.CacheDirectory = Value(); break;
                case "--redis": parsed.Redis = Value(); break;
                case "--dir": parsed.DemoDirectory = Value(); break;
                case "--port":
                    string port = Value();
                    parsed.Port = int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out int p) && p <= 65535
                        ? p
                        : throw new ArgumentException($"--port: '{port}' is not a port number.");
                    break;
                case "--listen":
                    string address = Value();
                    parsed.Listen = IPAddress.TryParse(address, out IPAddress? ip) ? ip : throw new ArgumentException($"--listen: '{address}' is not an IP address.");
                    break;
                case "--client-ca": parsed.ClientCa = Value(); break;
                case "--client-revocation":
                    string mode = Value();
                    parsed.ClientRevocationGiven = true;
                    parsed.ClientRevocation = mode switch
                    {
                        "fail-closed" => OcspClientFailureMode.FailClosed,
                        "fail-open" => OcspClientFailureMode.FailOpen,
                        _ => throw new ArgumentException($"--client-revocation: '{mode}' is neither fail-closed nor fail-open."),
                    };
                    break;
                case "-h" or "--help": parsed.Help = true; break;
                default: throw new ArgumentException($"Unknown argument '{name}'.");
            }
        }

        if (parsed.Certificate is not null && parsed.Pfx is not null)
        {
            throw new ArgumentException("Give either --cert/--key or --pfx, not both.");
        }

        if ((parsed.Certificate is null) != (parsed.Key is null))
        {
            throw new ArgumentException("--cert and --key go together.");
        }

        if (parsed.Redis is not null && parsed.CacheDirectory is not null)
        {
            throw new ArgumentException("Give either --cache or --redis, not both.");
        }

        if (parsed.ClientRevocationGiven && parsed.ClientCa is null)
        {
            throw new ArgumentException("--client-revocation needs --client-ca.");
        }

        return parsed;
    }
}
