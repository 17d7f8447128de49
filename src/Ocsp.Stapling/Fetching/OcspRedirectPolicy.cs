namespace Ocsp.Stapling;

/// <summary>Which HTTP redirects a responder may send the provider's requests through (<see cref="OcspFetchOptions.Redirects"/>).</summary>
public enum OcspRedirectPolicy
{
    /// <summary>
    /// Up to 3 redirects to the responder URL's own origin (same scheme, host and port), re-sent with the same method and
    /// body. A redirect elsewhere, or to another scheme (<c>file:</c>, <c>ftp:</c>, <c>gopher:</c>), ends the fetch with
    /// reason <see cref="OcspFailureReason.Redirect"/> and no connection to the target.
    /// </summary>
    SameOrigin,

    /// <summary>No redirect is followed: a 3xx answer ends the fetch with reason <see cref="OcspFailureReason.Redirect"/>.</summary>
    None,
}
