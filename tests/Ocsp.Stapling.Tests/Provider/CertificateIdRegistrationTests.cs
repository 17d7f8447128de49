using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests.Provider;

/// <summary>Registration by CertID (issuer + serial, no leaf): what a caching proxy registers for a certificate of a known CA.</summary>
public sealed class CertificateIdRegistrationTests(ResponderFixture fixture) : IClassFixture<ResponderFixture>, IDisposable
{
    private readonly FakeTimeProvider _time = fixture.Reset();
    private readonly TestOcspResponder _responder = fixture.Responder;
    private readonly TestPki _pki = fixture.Pki;
    private readonly string _cacheDirectory = Directory.CreateTempSubdirectory("ocsp-certid-").FullName;

    public void Dispose() => Directory.Delete(_cacheDirectory, recursive: true);

    [Fact]
    public async Task RegisteredByCertId_IsFetchedValidatedAndStored_UnderTheKeyOfTheLeafRegistration_BothWays()
    {
        X509Certificate2 leaf = fixture.NewLeaf("certid-shared");
        OcspCertificateId id = OcspCertificateId.Create(_pki.Intermediate, leaf.SerialNumberBytes.Span);
        Assert.Equal(OcspCertificateId.Create(leaf, _pki.Intermediate), id);

        using (ProviderHost proxy = FileHost())
        {
            Assert.True(proxy.Provider.Register(id, _pki.Intermediate, _responder.Url));
            Assert.False(proxy.Provider.Register(id, _pki.Intermediate, _responder.Url));
            OcspRefreshResult fetched = await proxy.Provider.RefreshAsync(id);

            Assert.True(fetched.Succeeded, fetched.Failure?.Message);
            Assert.Equal(OcspCertificateStatus.Good, fetched.Response!.Status);
            Assert.Equal(OcspStapleSource.Responder, fetched.Source);
            OcspCertificateState state = proxy.Provider.GetState(id)!;
            Assert.Null(state.Certificate);
            Assert.Equal(id, state.CertificateId);
            Assert.Contains(leaf.SerialNumber, state.DisplayName, StringComparison.Ordinal);
            Assert.Same(state.CertificateId, Assert.Single(proxy.Provider.GetStates()).CertificateId);
        }

        // A Kestrel app (a leaf registration) on the same store: served from it, no upstream request.
        using (ProviderHost app = FileHost())
        {
            app.Provider.Register(leaf, _pki.Intermediate);
            Assert.NotNull(await app.Provider.GetStapleAsync(leaf, _pki.Intermediate));
            Assert.Equal(1, _responder.RequestCount);
        }

        // And the other way: a leaf's stored response serves a later CertID registration.
        X509Certificate2 other = fixture.NewLeaf("certid-other-way");
        using (ProviderHost app = FileHost())
        {
            app.Provider.Register(other, _pki.Intermediate);
            await app.Provider.GetStapleAsync(other, _pki.Intermediate);
        }

        _responder.Fault = ResponderFault.Down;
        using ProviderHost restarted = FileHost();
        OcspCertificateId otherId = OcspCertificateId.Create(_pki.Intermediate, other.SerialNumberBytes.Span);
        restarted.Provider.Register(otherId, _pki.Intermediate, _responder.Url);
        OcspRefreshResult fromStore = await restarted.Provider.RefreshAsync(otherId);
        Assert.Equal(OcspStapleSource.SharedStore, fromStore.Source);
        Assert.Equal(OcspCertificateStatus.Good, fromStore.Response!.Status);
        Assert.Equal(2, _responder.RequestCount);
    }

    [Theory]
    [InlineData(ResponderFault.WrongSerial, OcspValidationFailure.CertificateIdMismatch)]
    [InlineData(ResponderFault.HtmlBody, OcspValidationFailure.MalformedResponse)]
    [InlineData(ResponderFault.BadSignature, OcspValidationFailure.BadSignature)]
    [InlineData(ResponderFault.WrongSigner, OcspValidationFailure.UnauthorizedSigner)]
    [InlineData(ResponderFault.Expired, OcspValidationFailure.Expired)]
    public async Task RegisteredByCertId_BadAnswer_IsNeverHeldOrStored(ResponderFault fault, OcspValidationFailure failure)
    {
        X509Certificate2 leaf = fixture.NewLeaf("certid-bad");
        OcspCertificateId id = OcspCertificateId.Create(_pki.Intermediate, leaf.SerialNumberBytes.Span);
        _responder.Fault = fault;
        using (ProviderHost proxy = FileHost())
        {
            proxy.Provider.Register(id, _pki.Intermediate, _responder.Url);

            OcspRefreshResult sut = await proxy.Provider.RefreshAsync(id);

            Assert.Null(sut.Response);
            Assert.Equal(failure, sut.Failure?.ValidationFailure);
            Assert.Null(proxy.Provider.GetState(id)!.Staple);
            Assert.Equal(1, proxy.Provider.GetState(id)!.ConsecutiveFailures);
        }

        // Nothing reached the store: a new process with the responder down has nothing to serve.
        _responder.Fault = ResponderFault.Down;
        using ProviderHost restarted = FileHost();
        restarted.Provider.Register(id, _pki.Intermediate, _responder.Url);
        Assert.Null((await restarted.Provider.RefreshAsync(id)).Response);
    }

    [Fact]
    public async Task RegisteredBySha256CertId_AsksInSha256_AndIsKeptApartFromTheSha1Entry()
    {
        X509Certificate2 leaf = fixture.NewLeaf("certid-sha256");
        OcspCertificateId sha256 = OcspCertificateId.Create(_pki.Intermediate, leaf.SerialNumberBytes.Span, OcspHashAlgorithm.Sha256);
        using ProviderHost proxy = FileHost();
        proxy.Provider.Register(sha256, _pki.Intermediate, _responder.Url);

        OcspRefreshResult sut = await proxy.Provider.RefreshAsync(sha256);

        Assert.True(sut.Succeeded, sut.Failure?.Message);
        Assert.Equal(sha256, sut.Response!.CertificateId);
        Assert.Equal(OcspHashAlgorithm.Sha256, Assert.Single(_responder.ReceivedCertificateIds).HashAlgorithm);
        Assert.Equal(sha256, proxy.Provider.GetState(sha256)!.CertificateId);
        Assert.Null(proxy.Provider.GetState(sha256.WithHashAlgorithm(_pki.Intermediate, OcspHashAlgorithm.Sha1)));
    }

    [Fact]
    public async Task Unregistered_IsNoLongerRefreshed_AndRaisesNoLeafEvents()
    {
        using ProviderHost proxy = FileHost();
        int events = 0;
        proxy.Provider.CertificateRegistered += (_, _) => events++;
        proxy.Provider.StapleUpdated += (_, _) => events++;
        proxy.Provider.CertificateUnregistered += (_, _) => events++;
        OcspCertificateId id = OcspCertificateId.Create(_pki.Intermediate, fixture.NewLeaf("certid-forget").SerialNumberBytes.Span);
        proxy.Provider.Register(id, _pki.Intermediate, _responder.Url);
        await proxy.RunDueAsync(CancellationToken.None);
        Assert.Equal(1, _responder.RequestCount);
        DateTimeOffset next = proxy.Provider.GetState(id)!.NextRefresh!.Value;

        Assert.True(proxy.Provider.Unregister(id));
        Assert.False(proxy.Provider.Unregister(id));
        _time.SetUtcNow(next + TimeSpan.FromDays(1));
        await proxy.RunDueAsync(CancellationToken.None);

        Assert.Null(proxy.Provider.GetState(id));
        Assert.Empty(proxy.Provider.GetStates());
        Assert.Equal(1, _responder.RequestCount);
        Assert.Equal(0, events);
        await Assert.ThrowsAsync<InvalidOperationException>(() => proxy.Provider.RefreshAsync(id));
    }

    [Fact]
    public void Register_CertIdOfAnotherIssuer_OrABadResponder_Throws()
    {
        using ProviderHost proxy = FileHost();
        OcspCertificateId ofRoot = OcspCertificateId.Create(_pki.Root, [0x42]);

        ArgumentException wrongIssuer = Assert.Throws<ArgumentException>(() => proxy.Provider.Register(ofRoot, _pki.Intermediate, _responder.Url));
        ArgumentException badUrl = Assert.Throws<ArgumentException>(() => proxy.Provider.Register(ofRoot, _pki.Root, new Uri("ftp://ocsp.example/")));

        Assert.Contains("does not name", wrongIssuer.Message, StringComparison.Ordinal);
        Assert.Contains("http(s)", badUrl.Message, StringComparison.Ordinal);
        Assert.Empty(proxy.Provider.GetStates());
    }

    [Fact]
    public void Validate_ByCertId_AcceptsTheResponse_AndRejectsAnotherSerialOrIssuer()
    {
        X509Certificate2 leaf = fixture.NewLeaf("certid-validate");
        byte[] response = new OcspResponseBuilder(OcspCertificateId.Create(leaf, _pki.Intermediate, OcspHashAlgorithm.Sha256), _pki.Intermediate, _time.GetUtcNow()).Build();
        OcspCertificateId sha1 = OcspCertificateId.Create(_pki.Intermediate, leaf.SerialNumberBytes.Span);

        OcspValidationResult good = OcspResponseValidator.Validate(response, sha1, _pki.Intermediate, _time.GetUtcNow());
        OcspValidationResult otherSerial = OcspResponseValidator.Validate(response, OcspCertificateId.Create(_pki.Intermediate, [0x01, 0x02]), _pki.Intermediate, _time.GetUtcNow());

        Assert.True(good.IsValid, good.Message); // answered in SHA-256 for a SHA-1 CertID: compared in the answer's algorithm
        Assert.Equal(OcspValidationFailure.CertificateIdMismatch, otherSerial.Failure);
        Assert.Throws<ArgumentException>(() => OcspResponseValidator.Validate(response, sha1, _pki.Root, _time.GetUtcNow()));
        Assert.True(sha1.IsIssuedBy(_pki.Intermediate));
        Assert.False(sha1.IsIssuedBy(_pki.Root));
    }

    [Fact]
    public async Task RefreshFailures_OfACertIdRegistration_AWarningOncePerReason_RepeatsAtDebug_RoutineUpdatesAtDebug()
    {
        using ProviderHost proxy = FileHost();
        OcspCertificateId id = OcspCertificateId.Create(_pki.Intermediate, fixture.NewLeaf("certid-logs").SerialNumberBytes.Span);
        proxy.Provider.Register(id, _pki.Intermediate, _responder.Url);
        await proxy.RunDueAsync(CancellationToken.None);
        Assert.Equal(Microsoft.Extensions.Logging.LogLevel.Debug, Assert.Single(proxy.Logs.Entries, e => e.EventId == Log.StapleUpdatedId).Level);

        // Down three times, then another reason, then down again: Warning, Debug, Debug, Warning, Warning.
        ResponderFault[] faults = [ResponderFault.Down, ResponderFault.Down, ResponderFault.Down, ResponderFault.Http500, ResponderFault.Down];
        foreach (ResponderFault fault in faults)
        {
            _responder.Fault = fault;
            _time.SetUtcNow(proxy.Provider.GetState(id)!.NextRefresh!.Value);
            await proxy.RunDueAsync(CancellationToken.None);
        }

        Microsoft.Extensions.Logging.LogLevel[] levels = [.. proxy.Logs.Entries.Where(e => e.EventId == Log.FetchFailedId).Select(e => e.Level)];
        Assert.Equal(
            [Microsoft.Extensions.Logging.LogLevel.Warning, Microsoft.Extensions.Logging.LogLevel.Debug, Microsoft.Extensions.Logging.LogLevel.Debug,
                Microsoft.Extensions.Logging.LogLevel.Warning, Microsoft.Extensions.Logging.LogLevel.Warning],
            levels);
        Assert.Equal(5, proxy.Provider.GetState(id)!.ConsecutiveFailures);
    }

    [Fact]
    public async Task RegisterAnswered_ServesTheAnswerAtOnce_WritesTheStore_AndRefreshesAtItsRefreshPoint_NotBefore()
    {
        using ProviderHost proxy = FileHost();
        OcspCertificateId id = OcspCertificateId.Create(_pki.Intermediate, fixture.NewLeaf("certid-answered").SerialNumberBytes.Span);
        OcspRefreshResult answer = (await proxy.Provider.AskOnceAsync(id, _pki.Intermediate, [_responder.Url], () => true))!;
        Assert.Null(proxy.Provider.GetState(id)); // asked, not kept

        Assert.True(await proxy.Provider.RegisterAnsweredAsync(id, _pki.Intermediate, [_responder.Url], answer));
        Assert.False(await proxy.Provider.RegisterAnsweredAsync(id, _pki.Intermediate, [_responder.Url], answer));
        OcspCertificateState state = proxy.Provider.GetState(id)!;
        Assert.Same(answer.Response, state.Staple);
        Assert.Equal(answer.Response!.ThisUpdate + (answer.Response.Validity / 2), state.NextRefresh); // half-life, no jitter here
        await proxy.RunDueAsync(CancellationToken.None);
        Assert.Equal(1, _responder.RequestCount); // nothing due yet

        using (ProviderHost other = FileHost())
        {
            Assert.Equal(OcspStapleSource.SharedStore, (await other.Provider.AskOnceAsync(id, _pki.Intermediate, [_responder.Url], () => throw new InvalidOperationException("not asked")))!.Source);
        }

        _time.SetUtcNow(state.NextRefresh!.Value);
        await proxy.RunDueAsync(CancellationToken.None);
        Assert.Equal(2, _responder.RequestCount);
    }

    [Fact]
    public async Task AskOnce_WhenTheCallerSaysNo_AsksNobody_AndAnUnknownAnswerIsNotAccepted()
    {
        using ProviderHost proxy = FileHost();
        OcspCertificateId id = OcspCertificateId.Create(_pki.Intermediate, [0x7A, 0x11]);
        _responder.IssuedSerials = new HashSet<string>(StringComparer.Ordinal);

        Assert.Null(await proxy.Provider.AskOnceAsync(id, _pki.Intermediate, [_responder.Url], () => false));
        Assert.Equal(0, _responder.RequestCount);

        OcspRefreshResult unknown = (await proxy.Provider.AskOnceAsync(id, _pki.Intermediate, [_responder.Url], () => true))!;
        Assert.Equal(OcspCertificateStatus.Unknown, unknown.Response!.Status);
        Assert.False(unknown.IsServed);
        await Assert.ThrowsAsync<ArgumentException>(() => proxy.Provider.RegisterAnsweredAsync(id, _pki.Intermediate, [_responder.Url], unknown));
        Assert.Empty(proxy.Provider.GetStates());
        Assert.Empty(Directory.GetFiles(_cacheDirectory, "*.entry"));
    }

    private ProviderHost FileHost() => new(_time, b => b.UseFileSystemCache(_cacheDirectory));
}
