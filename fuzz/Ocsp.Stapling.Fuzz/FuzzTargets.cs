using System.Security.Cryptography.X509Certificates;
using System.Text;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Tool;

namespace Ocsp.Stapling.Fuzz;

/// <summary>
/// Every parser that sees bytes from outside, as one fuzz target each. A target returns normally for any input, or
/// throws its documented exception (an <see cref="OcspFormatException"/>, or what the file readers document), which
/// <see cref="Run"/> accepts; anything else is a finding: another exception, or more than <see cref="MaxAllocation"/>
/// allocated for one input (unbounded allocation). Hangs are the fuzzer's to see (its timeout).
/// </summary>
public static class FuzzTargets
{
    /// <summary>More than this allocated for one input is a finding: every parser here bounds what it reads.</summary>
    public const long MaxAllocation = 64L * 1024 * 1024;

    private static readonly Dictionary<string, Action<byte[], FuzzPki>> Targets = new(StringComparer.Ordinal)
    {
        // The OCSP response parser and the validator's input path (what a responder or a shared store hands us).
        ["response"] = static (input, pki) =>
        {
            Accept<OcspFormatException>(() => OcspResponse.Parse(input));
            OcspResponseValidator.Validate(input, pki.Leaf, pki.Issuer, pki.Now); // never throws: a result says why
        },

        // The request decoder, DER (a POST body).
        ["request"] = static (input, _) => Accept<OcspFormatException>(() => OcspRequest.Decode(input)),

        // The GET path's URL/base64 forms, then the DER they decode to.
        ["get-path"] = static (input, _) => Accept<OcspFormatException>(() =>
            OcspRequest.Decode(OcspHttpEncoding.DecodeGetRequest(Encoding.Latin1.GetString(input)))),

        // The DER pre-scan every decode starts with (nesting, lengths) and the single-object reader.
        ["der"] = static (input, _) => Accept<OcspFormatException>(() => Der.ReadSingleObject(input, "fuzz input")),

        // The shared-store entry reader: the envelope, then the response in it validated as every store read is.
        ["store-entry"] = static (input, pki) =>
        {
            if (StapleCacheEntry.TryDeserialize(input, out _, out ReadOnlyMemory<byte> der))
            {
                OcspResponseValidator.Validate(der, pki.Subject, pki.Now, new OcspValidationOptions());
            }
        },

        // PEM/PFX certificate-file loading as the file source and the tool do it (a file of any content).
        ["certificate-file"] = static (input, pki) =>
        {
            string path = pki.Scratch("certificate-file", input);
            Accept<InvalidOperationException>(() => OcspServerCertificateFiles.LoadCertificates(path));
            Accept<InvalidOperationException>(() => OcspServerCertificateFiles.LoadPfx(path, null));
            Accept<InvalidOperationException>(() => OcspServerCertificateFiles.LoadPem(path, path, null));
        },

        // The CRL reader and validator (what a distribution point or a shared store hands the client-certificate checks):
        // parsed, validated against the seed CA (never throws: a reason), a serial looked up, the scope checked.
        ["crl"] = static (input, pki) =>
        {
            ParsedCrl? crl = null;
            Accept<OcspFormatException>(() => crl = ParsedCrl.Parse(input));
            if (crl is not null)
            {
                _ = CrlValidation.Check(crl, pki.Issuer, new Uri("http://crl.fuzz.invalid/ca.crl"), pki.Now, TimeSpan.FromMinutes(5), held: null);
                _ = crl.Revoked.TryFind(pki.Leaf.SerialNumberBytes.Span, out _, out _);
                _ = CrlValidation.Covers(crl, pki.Leaf);
            }
        },

        // The renew configuration reader (JSON with durations, paths and options).
        ["renew-config"] = static (input, pki) =>
        {
            string path = pki.Scratch("renew-config", input);
            Accept<ToolException>(() => RenewConfiguration.Load(path));
        },
    };

    /// <summary>Gets the target names.</summary>
    public static IReadOnlyCollection<string> Names => Targets.Keys;

    /// <summary>Runs <paramref name="target"/> on <paramref name="input"/>; throws for a finding.</summary>
    /// <exception cref="ArgumentException">No such target.</exception>
    public static void Run(string target, byte[] input, FuzzPki pki)
    {
        if (!Targets.TryGetValue(target, out Action<byte[], FuzzPki>? run))
        {
            throw new ArgumentException($"No fuzz target '{target}'; targets: {string.Join(", ", Names)}.", nameof(target));
        }

        long before = GC.GetAllocatedBytesForCurrentThread();
        run(input, pki);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        if (allocated > MaxAllocation)
        {
            throw new FuzzFindingException($"{target}: {allocated} bytes allocated for a {input.Length}-byte input (bound {MaxAllocation}).");
        }
    }

    private static void Accept<TDocumented>(Action parse)
        where TDocumented : Exception
    {
        try
        {
            parse();
        }
        catch (TDocumented)
        {
            // The documented refusal of bad input.
        }
    }

    private static void Accept<TDocumented>(Func<object> parse)
        where TDocumented : Exception => Accept<TDocumented>(() => { _ = parse(); });
}

/// <summary>Unbounded allocation (or another check of the harness's own) on one input.</summary>
public sealed class FuzzFindingException(string message) : Exception(message);

/// <summary>
/// The certificate and issuer responses are validated against, loaded from the seed corpus's <c>pki/</c> folder so
/// that fuzzed responses derived from the seeds reach the signature check; a scratch file for the file readers.
/// </summary>
public sealed class FuzzPki
{
    private readonly string _scratch;

    private FuzzPki(X509Certificate2 leaf, X509Certificate2 issuer, DateTimeOffset now, string scratch)
    {
        Leaf = leaf;
        Issuer = issuer;
        Now = now;
        Subject = OcspSubject.Of(leaf, issuer);
        _scratch = scratch;
    }

    public X509Certificate2 Leaf { get; }

    public X509Certificate2 Issuer { get; }

    /// <summary>Gets the validation time: the seeds' own, so that they are valid (fixed: the same input, the same path).</summary>
    public DateTimeOffset Now { get; }

    internal OcspSubject Subject { get; }

    public static FuzzPki Load(string pkiDirectory)
    {
        X509Certificate2 leaf = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(pkiDirectory, "leaf.pem"));
        X509Certificate2 issuer = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(pkiDirectory, "issuer.pem"));
        var now = DateTimeOffset.Parse(File.ReadAllText(Path.Combine(pkiDirectory, "now.txt")).Trim(), System.Globalization.CultureInfo.InvariantCulture);
        string scratch = Path.Combine(Path.GetTempPath(), $"ocsp-stapling-fuzz-{Environment.ProcessId}");
        Directory.CreateDirectory(scratch);
        return new FuzzPki(leaf, issuer, now, scratch);
    }

    /// <summary>Writes <paramref name="content"/> to this process's scratch file for <paramref name="name"/>.</summary>
    public string Scratch(string name, byte[] content)
    {
        string path = Path.Combine(_scratch, name);
        File.WriteAllBytes(path, content);
        return path;
    }
}
