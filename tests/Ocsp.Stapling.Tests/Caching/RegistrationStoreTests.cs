using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests.Caching;

public sealed class RegistrationStoreTests(PkiFixture fixture) : IClassFixture<PkiFixture>
{
    private readonly FakeTimeProvider _time = new();
    private readonly TestPki _pki = fixture.Pki;

    private RegistrationStore Store(bool stapleRevoked = false) => new(_time, stapleRevoked);

    private Registration Add(RegistrationStore store, X509Certificate2? certificate = null)
    {
        var registration = Registration.Create(certificate ?? _pki.Leaf, _pki.Intermediate, new OcspFetchOptions());
        Assert.True(store.TryAdd(registration));
        return registration;
    }

    private OcspStaple Staple(TimeSpan age, TimeSpan validity, OcspCertificateStatus status = OcspCertificateStatus.Good)
    {
        DateTimeOffset thisUpdate = _time.GetUtcNow() - age;
        return new OcspStaple(
            [0x30, 0x00], OcspCertificateId.Create(_pki.Leaf, _pki.Intermediate), status, thisUpdate, thisUpdate + validity, thisUpdate, _time.GetUtcNow(),
            status == OcspCertificateStatus.Revoked ? thisUpdate : null);
    }

    [Fact]
    public void Find_AnotherInstanceOfTheSameCertificate_FindsTheRegistration()
    {
        using RegistrationStore sut = Store();
        Registration registration = Add(sut);
        using X509Certificate2 copy = X509CertificateLoader.LoadCertificate(_pki.Leaf.RawData);

        Assert.Same(registration, sut.Find(copy));
        Assert.Same(registration, sut.Find(_pki.Leaf));
        Assert.Null(sut.Find(_pki.LeafWithoutAia));
    }

    [Fact]
    public void TryAdd_SameCertificateTwice_KeepsTheFirst()
    {
        using RegistrationStore sut = Store();
        Registration first = Add(sut);

        Assert.False(sut.TryAdd(Registration.Create(_pki.Leaf, _pki.Intermediate, new OcspFetchOptions())));
        Assert.Same(first, sut.Find(_pki.Leaf));
        Assert.Equal(1, sut.Count);
    }

    [Fact]
    public void Adopt_NewerReplaces_OlderOrEqualDoesNot_ExpiredNever()
    {
        using RegistrationStore sut = Store();
        Registration registration = Add(sut);
        OcspStaple older = Staple(TimeSpan.FromHours(2), TimeSpan.FromDays(4));
        OcspStaple newer = Staple(TimeSpan.FromHours(1), TimeSpan.FromDays(4));

        Assert.True(sut.Adopt(registration, newer, OcspStapleSource.Responder));
        Assert.False(sut.Adopt(registration, older, OcspStapleSource.Responder));
        Assert.False(sut.Adopt(registration, newer, OcspStapleSource.Responder));
        Assert.False(sut.Adopt(registration, Staple(TimeSpan.FromDays(5), TimeSpan.FromDays(4)), OcspStapleSource.Responder));

        Assert.Same(newer, registration.State.Staple);
        Assert.Same(newer, registration.State.Served);
    }

    [Fact]
    public void Adopt_Revoked_HeldButNotServedUnlessAllowed()
    {
        using RegistrationStore strict = Store();
        using RegistrationStore lenient = Store(stapleRevoked: true);
        OcspStaple revoked = Staple(TimeSpan.FromHours(1), TimeSpan.FromDays(4), OcspCertificateStatus.Revoked);
        Registration inStrict = Add(strict);
        Registration inLenient = Add(lenient);

        Assert.True(strict.Adopt(inStrict, revoked, OcspStapleSource.Responder));
        Assert.True(lenient.Adopt(inLenient, revoked, OcspStapleSource.Responder));

        Assert.Same(revoked, inStrict.State.Staple);
        Assert.Null(inStrict.State.Served);
        Assert.Same(revoked, inLenient.State.Served);
    }

    [Fact]
    public void Expiry_AtNextUpdate_StopsServingAndIsReportedOnce()
    {
        using RegistrationStore sut = Store();
        Registration registration = Add(sut);
        OcspStaple staple = Staple(TimeSpan.Zero, TimeSpan.FromDays(4));
        var expired = new List<OcspStaple>();
        sut.Expired += (r, s) => expired.Add(s);
        sut.Adopt(registration, staple, OcspStapleSource.Responder);

        _time.Advance(TimeSpan.FromDays(4) - TimeSpan.FromSeconds(1));
        Assert.Same(staple, registration.State.Served);
        _time.Advance(TimeSpan.FromSeconds(1));
        _time.Advance(TimeSpan.FromDays(1));

        Assert.Null(registration.State.Served);
        Assert.Equal([staple], expired);
        Assert.Same(staple, registration.State.Staple);
    }

    [Fact]
    public void Remove_ReturnsTheServedStaple_StopsItsTimer_AndAdoptAfterwardServesNothing()
    {
        using RegistrationStore sut = Store();
        Registration registration = Add(sut);
        OcspStaple staple = Staple(TimeSpan.Zero, TimeSpan.FromDays(4));
        sut.Adopt(registration, staple, OcspStapleSource.Responder);
        int timers = _time.ActiveTimerCount;

        Assert.Same(registration, sut.Remove(_pki.Leaf, out OcspStaple? served));

        Assert.Same(staple, served);
        Assert.Null(sut.Find(_pki.Leaf));
        Assert.Equal(timers - 1, _time.ActiveTimerCount);
        Assert.True(sut.Adopt(registration, Staple(TimeSpan.FromMinutes(-1), TimeSpan.FromDays(5)), OcspStapleSource.Responder));
        Assert.Null(registration.State.Served);
        Assert.Null(sut.Remove(_pki.Leaf, out _));
    }

    [Fact]
    public void RecordFailure_CountsConsecutively_WithItsRetryTimeInTheSameWrite_RecordSuccessClears()
    {
        using RegistrationStore sut = Store();
        Registration registration = Add(sut);
        DateTimeOffset now = _time.GetUtcNow();
        OcspFailure Failure(OcspFailureReason reason) => new(reason, reason.ToString(), OcspValidationFailure.None, now, null);
        DateTimeOffset RetryAt(int failures) => now.AddMinutes(failures);

        RegistrationState first = RegistrationStore.RecordFailure(registration, Failure(OcspFailureReason.Timeout), RetryAt);
        RegistrationState second = RegistrationStore.RecordFailure(registration, Failure(OcspFailureReason.HttpStatus), RetryAt);
        RegistrationState uncounted = RegistrationStore.RecordFailure(registration, Failure(OcspFailureReason.NoResponder), RetryAt, countsAsFailure: false);

        Assert.Equal((1, now.AddMinutes(1), OcspFailureReason.Timeout), (first.ConsecutiveFailures, first.NextRefresh, first.LastFailure!.Reason));
        Assert.Equal((2, now.AddMinutes(2), OcspFailureReason.HttpStatus), (second.ConsecutiveFailures, second.NextRefresh, second.LastFailure!.Reason));
        Assert.Equal((2, OcspFailureReason.NoResponder), (uncounted.ConsecutiveFailures, uncounted.LastFailure!.Reason));
        Assert.Same(uncounted, registration.State);
        Assert.True(registration.State.InBackoff(now));

        RegistrationState succeeded = RegistrationStore.RecordSuccess(registration, now.AddDays(2), responderIndex: 1);

        Assert.Equal((0, (OcspFailure?)null, 1, now.AddDays(2)), (succeeded.ConsecutiveFailures, succeeded.LastFailure, succeeded.PreferredResponder, succeeded.NextRefresh));
        Assert.False(registration.State.InBackoff(now));
    }

    [Fact]
    public void Write_EachChangeIsOneNewSnapshotWithTheNextVersion_NoChangeWritesNothing()
    {
        using RegistrationStore sut = Store();
        Registration registration = Add(sut);
        RegistrationState before = registration.State;
        var written = new List<RegistrationState>();
        registration.Observer = (_, state) => written.Add(state);

        Assert.Null(registration.Write(0, static (_, _) => null));
        RegistrationState? pruned = registration.Write(_time.GetUtcNow(), static (state, now) => state with { LastPruneAt = now });
        sut.Adopt(registration, Staple(TimeSpan.Zero, TimeSpan.FromDays(4)), OcspStapleSource.SharedStore);

        Assert.Same(RegistrationState.Initial, before);
        Assert.Equal(2, written.Count);
        Assert.Same(pruned, written[0]);
        Assert.Same(registration.State, written[1]);
        Assert.Equal([before.Version + 1, before.Version + 2], written.Select(s => s.Version));
        Assert.Equal(_time.GetUtcNow(), registration.State.LastPruneAt); // the adoption kept what the prune wrote
        Assert.Equal(OcspStapleSource.SharedStore, registration.State.Source);
        Assert.Equal(0, RegistrationState.Initial.Version);
    }
}
