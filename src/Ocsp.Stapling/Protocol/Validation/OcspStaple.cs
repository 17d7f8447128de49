namespace Ocsp.Stapling;

/// <summary>
/// An immutable, validated OCSP response ready to be stapled to a TLS handshake, with the facts a server needs
/// to decide until when to use it.
/// </summary>
public sealed class OcspStaple
{
    private readonly byte[] _encoded;

    /// <summary>
    /// Initializes a new instance. The bytes are copied. Internal: a staple is only ever made by the validator, so that
    /// whatever holds one holds a response that was accepted for its certificate.
    /// </summary>
    /// <param name="encoded">The DER-encoded OCSP response.</param>
    /// <param name="certificateId">The CertID it answers for.</param>
    /// <param name="status">The certificate status it asserts.</param>
    /// <param name="thisUpdate">Its <c>thisUpdate</c>.</param>
    /// <param name="nextUpdate">Its <c>nextUpdate</c>, or the lifetime-derived expiry when the response has none.</param>
    /// <param name="producedAt">Its <c>producedAt</c>.</param>
    /// <param name="fetchedAt">When it was obtained from the responder.</param>
    /// <param name="revocationTime">The revocation time for a revoked certificate.</param>
    /// <param name="revocationReason">The revocation reason, when given.</param>
    internal OcspStaple(
        ReadOnlySpan<byte> encoded,
        OcspCertificateId certificateId,
        OcspCertificateStatus status,
        DateTimeOffset thisUpdate,
        DateTimeOffset nextUpdate,
        DateTimeOffset producedAt,
        DateTimeOffset fetchedAt,
        DateTimeOffset? revocationTime = null,
        OcspRevocationReason? revocationReason = null)
    {
        ArgumentNullException.ThrowIfNull(certificateId);
        if (encoded.IsEmpty)
        {
            throw new ArgumentException("A staple needs the encoded response.", nameof(encoded));
        }

        _encoded = encoded.ToArray();
        CertificateId = certificateId;
        Status = status;
        ThisUpdate = thisUpdate;
        NextUpdate = nextUpdate;
        ProducedAt = producedAt;
        FetchedAt = fetchedAt;
        RevocationTime = revocationTime;
        RevocationReason = revocationReason;
    }

    /// <summary>Gets the DER-encoded OCSP response, exactly the bytes to send in the TLS <c>CertificateStatus</c> message.</summary>
    public ReadOnlyMemory<byte> Encoded => _encoded;

    /// <summary>Gets the CertID the response answers for.</summary>
    public OcspCertificateId CertificateId { get; }

    /// <summary>Gets the certificate status the response asserts.</summary>
    public OcspCertificateStatus Status { get; }

    /// <summary>Gets the response's <c>thisUpdate</c>.</summary>
    public DateTimeOffset ThisUpdate { get; }

    /// <summary>
    /// Gets the end of the staple's validity: the response's <c>nextUpdate</c>, or <c>thisUpdate</c> plus
    /// <see cref="OcspValidationOptions.MissingNextUpdateLifetime"/> when the response has none; earlier when the delegated
    /// responder certificate that signed it expires first (<see cref="ResponderCertificateNotAfter"/>: clients check that
    /// certificate, so a staple served past it is rejected). Never staple at or after it.
    /// </summary>
    public DateTimeOffset NextUpdate { get; }

    /// <summary>Gets the <c>nextUpdate</c> written in the response, when it has one (<see cref="NextUpdate"/> may end earlier).</summary>
    public DateTimeOffset? ResponseNextUpdate { get; internal init; }

    /// <summary>Gets the <c>notAfter</c> of the delegated responder certificate that signed the response, or <see langword="null"/> when the issuer signed it.</summary>
    public DateTimeOffset? ResponderCertificateNotAfter { get; internal init; }

    /// <summary>Gets the response's <c>producedAt</c>.</summary>
    public DateTimeOffset ProducedAt { get; }

    /// <summary>Gets when the response was obtained from the responder.</summary>
    public DateTimeOffset FetchedAt { get; }

    /// <summary>Gets the revocation time, for a revoked certificate.</summary>
    public DateTimeOffset? RevocationTime { get; }

    /// <summary>Gets the revocation reason, when the responder gave one.</summary>
    public OcspRevocationReason? RevocationReason { get; }

    /// <summary>Gets the length of the validity window, from <see cref="ThisUpdate"/> to <see cref="NextUpdate"/>.</summary>
    public TimeSpan Validity => NextUpdate - ThisUpdate;

    /// <summary>Returns whether the staple may still be sent at <paramref name="now"/> (strictly before <see cref="NextUpdate"/>).</summary>
    /// <param name="now">The current time.</param>
    /// <returns><see langword="true"/> when not yet expired.</returns>
    public bool IsValidAt(DateTimeOffset now) => now < NextUpdate;

    /// <summary>
    /// When this response was fetched from its responder, as far as it can be trusted at <paramref name="now"/>: never before
    /// its thisUpdate, never after <paramref name="now"/> (a shared-store entry may claim anything).
    /// </summary>
    internal DateTimeOffset FetchedAtBy(DateTimeOffset now)
    {
        DateTimeOffset fetched = FetchedAt > ThisUpdate ? FetchedAt : ThisUpdate;
        return fetched < now ? fetched : now;
    }

    /// <summary>This staple as obtained at <paramref name="fetchedAt"/> (a shared-store copy keeps when it was first fetched).</summary>
    internal OcspStaple WithFetchedAt(DateTimeOffset fetchedAt) =>
        new(_encoded, CertificateId, Status, ThisUpdate, NextUpdate, ProducedAt, fetchedAt, RevocationTime, RevocationReason)
        {
            ResponseNextUpdate = ResponseNextUpdate,
            ResponderCertificateNotAfter = ResponderCertificateNotAfter,
        };

    /// <inheritdoc />
    public override string ToString() =>
        $"{Status} for serial {CertificateId.SerialNumberHex}, thisUpdate {ThisUpdate:u}, nextUpdate {NextUpdate:u}, {_encoded.Length} bytes";
}
