using System.Security.Cryptography.X509Certificates;
using Ocsp.Stapling.Internal;
using Ocsp.Stapling.Testing;

namespace Ocsp.Stapling.Tests.Caching;

public sealed class RegistrationStoreTests(PkiFixture fixture) : IClassFixture<PkiFixture>
{
    private readonly FakeTimeProvider _time = new();
    private readonly TestPki _pki = fixture.Pki;

    private RegistrationStore Store(bool stapleRevoked = false) => new(_time, new OcspStaplingOptions { StapleRevoked = stapleRevoked });

    private Registration Add(RegistrationStore store, X509Certificate2? certificate = null)
    {
        var registration = new Registration(certificate ?? _pki.Leaf, _pki.Intermediate, [_pki.OcspUrl], responderDisabled: false);
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

        Assert.False(sut.TryAdd(new Registration(_pki.Leaf, _pki.Intermediate, [], responderDisabled: false)));
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

        Assert.True(sut.Adopt(registration, newer));
        Assert.False(sut.Adopt(registration, older));
        Assert.False(sut.Adopt(registration, newer));
        Assert.False(sut.Adopt(registration, Staple(TimeSpan.FromDays(5), TimeSpan.FromDays(4))));

        Assert.Same(newer, registration.Staple);
        Assert.Same(newer, registration.Servable);
    }

    [Fact]
    public void Adopt_Revoked_HeldButNotServedUnlessAllowed()
    {
        using RegistrationStore strict = Store();
        using RegistrationStore lenient = Store(stapleRevoked: true);
        OcspStaple revoked = Staple(TimeSpan.FromHours(1), TimeSpan.FromDays(4), OcspCertificateStatus.Revoked);
        Registration inStrict = Add(strict);
        Registration inLenient = Add(lenient);

        Assert.True(strict.Adopt(inStrict, revoked));
        Assert.True(lenient.Adopt(inLenient, revoked));

        Assert.Same(revoked, inStrict.Staple);
        Assert.Null(inStrict.Servable);
        Assert.Same(revoked, inLenient.Servable);
    }

    [Fact]
    public void Expiry_AtNextUpdate_StopsServingAndIsReportedOnce()
    {
        using RegistrationStore sut = Store();
        Registration registration = Add(sut);
        OcspStaple staple = Staple(TimeSpan.Zero, TimeSpan.FromDays(4));
        var expired = new List<OcspStaple>();
        sut.Expired += (r, s) => expired.Add(s);
        sut.Adopt(registration, staple);

        _time.Advance(TimeSpan.FromDays(4) - TimeSpan.FromSeconds(1));
        Assert.Same(staple, registration.Servable);
        _time.Advance(TimeSpan.FromSeconds(1));
        _time.Advance(TimeSpan.FromDays(1));

        Assert.Null(registration.Servable);
        Assert.Equal([staple], expired);
        Assert.Same(staple, registration.Staple);
    }

    [Fact]
    public void Remove_ReturnsTheServedStaple_StopsItsTimer_AndAdoptAfterwardServesNothing()
    {
        using RegistrationStore sut = Store();
        Registration registration = Add(sut);
        OcspStaple staple = Staple(TimeSpan.Zero, TimeSpan.FromDays(4));
        sut.Adopt(registration, staple);
        int timers = _time.ActiveTimerCount;

        Assert.Same(registration, sut.Remove(_pki.Leaf, out OcspStaple? served));

        Assert.Same(staple, served);
        Assert.Null(sut.Find(_pki.Leaf));
        Assert.Equal(timers - 1, _time.ActiveTimerCount);
        Assert.True(sut.Adopt(registration, Staple(TimeSpan.FromMinutes(-1), TimeSpan.FromDays(5))));
        Assert.Null(registration.Servable);
        Assert.Null(sut.Remove(_pki.Leaf, out _));
    }

    [Fact]
    public void RecordFailure_CountsConsecutively_RecordSuccessClears()
    {
        using RegistrationStore sut = Store();
        Registration registration = Add(sut);

        Assert.Equal(1, sut.RecordFailure(registration, "Timeout", "slow", OcspValidationFailure.None));
        Assert.Equal(2, sut.RecordFailure(registration, "HttpStatus", "500", OcspValidationFailure.None));
        Assert.Equal(2, sut.RecordFailure(registration, "NoResponder", "none", OcspValidationFailure.None, countsAsFailure: false));
        Assert.Equal("NoResponder", registration.LastFailureReason);

        sut.RecordSuccess(registration, responderIndex: 1);

        Assert.Equal(0, registration.ConsecutiveFailures);
        Assert.Null(registration.LastFailureReason);
        Assert.Equal(1, registration.PreferredResponder);
    }

    [Fact]
    public void Clear_ForgetsTheStaple_AndReturnsIt()
    {
        using RegistrationStore sut = Store();
        Registration registration = Add(sut);
        OcspStaple staple = Staple(TimeSpan.Zero, TimeSpan.FromDays(4));
        sut.Adopt(registration, staple);

        Assert.Same(staple, sut.Clear(registration));

        Assert.Null(registration.Staple);
        Assert.Null(registration.Servable);
        Assert.Null(sut.Clear(registration));
    }
}
