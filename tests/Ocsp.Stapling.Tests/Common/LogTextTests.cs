using Ocsp.Stapling.Internal;

namespace Ocsp.Stapling.Tests.Common;

/// <summary>Outside text in log lines: escaped so that it cannot forge a line, drive a terminal or read reversed; capped.</summary>
public sealed class LogTextTests
{
    [Fact]
    public void Quote_PlainText_IsTheSameString()
    {
        const string plain = "http://ocsp.example.test/ answered HTTP 400 Bad Request (zwölf Zeichen)";

        Assert.Same(plain, LogText.Quote(plain));
    }

    [Theory]
    [InlineData("Bad\r\n[Critical] forged line", "Bad\\x0D\\x0A[Critical] forged line")]
    [InlineData("red \u001b[31mtext\u001b[0m", "red \\x1B[31mtext\\x1B[0m")]
    [InlineData("nul\0 del\u007f c1\u0085", "nul\\x00 del\\x7F c1\\x85")]
    [InlineData("evil\u202Etxt.exe and\u2028line", "evil\\u202Etxt.exe and\\u2028line")]
    public void Quote_ControlAndInvisibleCharacters_AreEscaped(string text, string expected) =>
        Assert.Equal(expected, LogText.Quote(text));

    [Fact]
    public void Quote_LongText_IsCappedAndSaysHowMuchIsLeftOut()
    {
        string quoted = LogText.Quote(new string('a', 10_000));

        Assert.StartsWith(new string('a', LogText.MaxLength), quoted, StringComparison.Ordinal);
        Assert.EndsWith($"… ({10_000 - LogText.MaxLength} more characters)", quoted, StringComparison.Ordinal);
    }

    [Fact]
    public void Quote_Null_IsEmpty() => Assert.Equal("", LogText.Quote(null));

    [Fact]
    public void CertificateNames_ASubjectWhoeverMadeTheCertificateChose_IsEscaped()
    {
        var name = new System.Security.Cryptography.X509Certificates.X500DistinguishedNameBuilder();
        name.AddCommonName("client\u001b[31m\nwarn: Fake[1]\u202Etxt");
        using var key = System.Security.Cryptography.ECDsa.Create();
        var request = new System.Security.Cryptography.X509Certificates.CertificateRequest(name.Build(), key, System.Security.Cryptography.HashAlgorithmName.SHA256);
        using System.Security.Cryptography.X509Certificates.X509Certificate2 certificate = request.CreateSelfSigned(DateTimeOffset.UnixEpoch, DateTimeOffset.UnixEpoch.AddDays(1));

        string display = CertificateNames.DisplayName(certificate);

        Assert.Contains("client\\x1B[31m\\x0Awarn: Fake[1]\\u202Etxt", display, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', display);
        Assert.DoesNotContain('\u001b', display);
    }
}
