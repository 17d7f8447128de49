using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests;

/// <summary>A test responder on 127.0.0.1 and a PKI whose leaves point at it (per test class; tests call <see cref="Reset"/>).</summary>
public sealed class ResponderFixture : IAsyncLifetime
{
    public TestOcspResponder Responder { get; private set; } = null!;

    public TestPki Pki { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Responder = await TestOcspResponder.StartAsync();
        Pki = TestPki.Create(Responder.Url, FakeTimeProvider.DefaultStart);
        Responder.AddIssuer(Pki.Intermediate);
    }

    public async Task DisposeAsync()
    {
        await Responder.DisposeAsync();
        Pki.Dispose();
    }

    public FakeTimeProvider Reset()
    {
        var time = new FakeTimeProvider();
        Responder.Reset(time);
        return time;
    }
}
