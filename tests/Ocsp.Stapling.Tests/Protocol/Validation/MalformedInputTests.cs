using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests.Protocol.Validation;

/// <summary>
/// Seeded mutation tests: the decoders throw nothing but <see cref="OcspFormatException"/>, the validator throws nothing,
/// and nothing whose signed bytes or signature changed is ever accepted.
/// </summary>
public sealed class MalformedInputTests(PkiFixture fixture) : IClassFixture<PkiFixture>
{
    private const int MutationsPerCorpusEntry = 1500;
    private static readonly DateTimeOffset Now = FakeTimeProvider.DefaultStart;
    private readonly TestPki _pki = fixture.Pki;

    public static TheoryData<string> Corpus => ["issuer-signed", "delegated", "revoked-with-nonce"];

    [Theory]
    [MemberData(nameof(Corpus))]
    public void Validate_SeededMutations_NeverThrowNorAcceptAlteredSignedContent(string kind)
    {
        (byte[] original, byte[]? nonce) = Build(kind);
        OcspValidationResult baseline = Validate(original, nonce);
        Assert.True(baseline.IsValid, baseline.Message);
        byte[] signedTbs = baseline.Response.Basic!.TbsResponseData.GetDerEncoded();
        byte[] signature = baseline.Response.Basic.Signature.GetBytes();
        var random = new Random(kind.Length * 7919);
        int accepted = 0;

        for (int i = 0; i < MutationsPerCorpusEntry; i++)
        {
            byte[] mutated = Mutate(original, random);

            OcspValidationResult sut = Validate(mutated, nonce);
            AssertParseThrowsOnlyFormatException(mutated);

            if (sut.IsValid)
            {
                accepted++;
                Assert.Equal(signedTbs, sut.Response.Basic!.TbsResponseData.GetDerEncoded());
                Assert.Equal(signature, sut.Response.Basic.Signature.GetBytes());
                Assert.Equal(baseline.Staple.Status, sut.Staple.Status);
                Assert.Equal(baseline.Staple.NextUpdate, sut.Staple.NextUpdate);
            }
            else
            {
                Assert.NotEqual(OcspValidationFailure.None, sut.Failure);
                Assert.False(string.IsNullOrWhiteSpace(sut.Message));
            }
        }

        // Most single-bit changes must be caught; a handful may hit bytes outside the signed content (embedded certificate padding).
        Assert.True(accepted < MutationsPerCorpusEntry / 20, $"{accepted} of {MutationsPerCorpusEntry} mutations accepted");
    }

    [Fact]
    public void Parse_RandomBytesAndTruncations_ThrowOnlyOcspFormatException()
    {
        var random = new Random(12345);
        byte[] original = Build("delegated").Der;
        for (int i = 0; i < 1000; i++)
        {
            byte[] noise = new byte[random.Next(0, 2048)];
            random.NextBytes(noise);
            if (noise.Length > 0 && i % 2 == 0)
            {
                noise[0] = 0x30; // start like a SEQUENCE to get past the first check
            }

            AssertParseThrowsOnlyFormatException(noise);
            Assert.False(Validate(noise, null).IsValid);
        }

        for (int length = 0; length < original.Length; length++)
        {
            byte[] truncated = original[..length];
            AssertParseThrowsOnlyFormatException(truncated);
            Assert.Equal(OcspValidationFailure.MalformedResponse, Validate(truncated, null).Failure);
        }
    }

    [Fact]
    public void Decode_MutatedRequests_ThrowOnlyOcspFormatException()
    {
        var random = new Random(424242);
        byte[] original = OcspRequest.Create(_pki.Leaf, _pki.Intermediate, new OcspRequestOptions { IncludeNonce = true }).Encoded.ToArray();
        string get = OcspHttpEncoding.EncodeForGet(original);
        int[] decoded = [0, 0];
        int[] rejected = [0, 0];
        for (int i = 0; i < 2000; i++)
        {
            byte[] mutated = Mutate(original, random);
            char[] text = get.ToCharArray();
            text[random.Next(text.Length)] = (char)random.Next(0x20, 0x7F);

            // [0]: a POST body; [1]: a GET path segment. Each either decodes to a usable request or is rejected with a reason.
            Func<byte[]>[] inputs = [() => mutated, () => OcspHttpEncoding.DecodeGetRequest(new string(text))];
            for (int kind = 0; kind < inputs.Length; kind++)
            {
                try
                {
                    OcspRequest request = OcspRequest.Decode(inputs[kind]());
                    Assert.NotEmpty(request.CertificateIds);
                    Assert.All(request.CertificateIds, id => Assert.False(id.SerialNumber.IsEmpty));
                    decoded[kind]++;
                }
                catch (OcspFormatException ex)
                {
                    Assert.False(string.IsNullOrWhiteSpace(ex.Message));
                    rejected[kind]++;
                }
            }
        }

        // Both halves ran both ways: mutations that still decode and mutations that are refused.
        Assert.All(decoded, count => Assert.True(count > 0));
        Assert.All(rejected, count => Assert.True(count > 0));
    }

    [Fact]
    public void Parse_DeeplyNestedInput_ThrowsOcspFormatException()
    {
        // 10,000 nested indefinite-length SEQUENCEs: must be rejected, not overflow the stack.
        byte[] nested = [.. Enumerable.Repeat<byte[]>([0x30, 0x80], 10_000).SelectMany(b => b)];

        Assert.Throws<OcspFormatException>(() => OcspResponse.Parse(nested));
    }

    [Fact]
    public void Parse_DeeplyNestedDefiniteLengthInput_ThrowsOcspFormatException()
    {
        // 15,000 nested definite-length SEQUENCEs (about 60 KiB, under the size cap).
        var stream = new MemoryStream();
        int[] lengths = new int[15_001];
        lengths[0] = 2;
        for (int depth = 1; depth < lengths.Length; depth++)
        {
            lengths[depth] = lengths[depth - 1] + HeaderSize(lengths[depth - 1]);
        }

        for (int depth = lengths.Length - 1; depth >= 1; depth--)
        {
            int length = lengths[depth - 1];
            stream.Write(length < 0x80 ? [0x30, (byte)length]
                : length < 0x100 ? [0x30, 0x81, (byte)length]
                : [0x30, 0x82, (byte)(length >> 8), (byte)length]);
        }

        stream.Write([0x05, 0x00]);
        byte[] nested = stream.ToArray();
        Assert.True(nested.Length < 64 * 1024);

        OcspFormatException error = Assert.Throws<OcspFormatException>(() => OcspResponse.Parse(nested));
        Assert.Contains("nests deeper", error.Message, StringComparison.Ordinal);
        Assert.Equal(OcspValidationFailure.MalformedResponse, Validate(nested, null).Failure);
        Assert.Throws<OcspFormatException>(() => OcspRequest.Decode(nested));
    }

    private static int HeaderSize(int length) => length < 0x80 ? 2 : length < 0x100 ? 3 : 4;

    private OcspValidationResult Validate(byte[] response, byte[]? nonce) =>
        OcspResponseValidator.Validate(response, _pki.Leaf, _pki.Intermediate, Now, requestNonce: nonce);

    private static void AssertParseThrowsOnlyFormatException(byte[] bytes)
    {
        try
        {
            OcspResponse.Parse(bytes);
        }
        catch (OcspFormatException)
        {
        }
    }

    private (byte[] Der, byte[]? Nonce) Build(string kind)
    {
        OcspResponseBuilder builder = OcspResponseBuilder.For(_pki.Leaf, _pki.Intermediate, Now);
        byte[]? nonce = null;
        switch (kind)
        {
            case "delegated":
                builder.Signer = _pki.DelegatedResponder;
                break;
            case "revoked-with-nonce":
                builder.Status = OcspCertificateStatus.Revoked;
                builder.RevocationReason = OcspRevocationReason.KeyCompromise;
                nonce = [9, 8, 7, 6, 5, 4, 3, 2];
                builder.Nonce = nonce;
                break;
        }

        return (builder.Build(), nonce);
    }

    private static byte[] Mutate(byte[] original, Random random)
    {
        byte[] copy = (byte[])original.Clone();
        switch (random.Next(5))
        {
            case 0:
            case 1:
                int flips = random.Next(1, 4);
                for (int f = 0; f < flips; f++)
                {
                    copy[random.Next(copy.Length)] ^= (byte)(1 << random.Next(8));
                }

                return copy;
            case 2:
                copy[random.Next(copy.Length)] = (byte)random.Next(256);
                return copy;
            case 3:
                int at = random.Next(copy.Length);
                return [.. copy[..at], (byte)random.Next(256), .. copy[at..]];
            default:
                int cut = random.Next(copy.Length);
                return [.. copy[..cut], .. copy[(cut + 1)..]];
        }
    }
}
