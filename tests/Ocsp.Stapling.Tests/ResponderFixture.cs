using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests;

/// <summary>The shared PKI and responder on the fake clock's default start (per test class; tests call <see cref="PkiResponderFixture.Reset"/>).</summary>
public sealed class ResponderFixture() : PkiResponderFixture(FakeTimeProvider.DefaultStart), IAsyncLifetime;

/// <summary>The shared PKI and responder at the real now, for tests that run OpenSSL against the TLS component.</summary>
public sealed class RealTimeFixture : PkiResponderFixture, IAsyncLifetime;
