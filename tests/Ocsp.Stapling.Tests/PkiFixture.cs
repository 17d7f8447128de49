using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests;

/// <summary>One test PKI per test class: key generation is the slow part.</summary>
public sealed class PkiFixture : IDisposable
{
    public PkiFixture() => Pki = TestPki.Create(new Uri("http://ocsp.test.invalid/ocsp"), FakeTimeProvider.DefaultStart);

    public TestPki Pki { get; }

    public void Dispose() => Pki.Dispose();
}
