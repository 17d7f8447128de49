using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.AspNetCore.Tests;

/// <summary>The shared PKI and responder at the real now (clients check times against the real clock).</summary>
public sealed class KestrelFixture : PkiResponderFixture, IAsyncLifetime;
