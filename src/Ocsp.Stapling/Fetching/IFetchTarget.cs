namespace Ocsp.Stapling.Internal;

/// <summary>What the fetcher needs to know of a certificate: what to ask, in which hash algorithm, and whom.</summary>
internal interface IFetchTarget
{
    /// <summary>Gets the serial number and its issuer.</summary>
    OcspSubject Subject { get; }

    /// <summary>Gets the hash algorithm of the request, or <see langword="null"/> for <see cref="OcspFetchOptions.HashAlgorithm"/>.</summary>
    OcspHashAlgorithm? RequestHashAlgorithm { get; }

    /// <summary>Gets the responders to ask, in order.</summary>
    IReadOnlyList<Uri> ResponderUris { get; }

    /// <summary>Gets a value indicating whether fetching is turned off by a responder override.</summary>
    bool ResponderDisabled { get; }

    /// <summary>Gets the index of the responder that answered last; it is asked first.</summary>
    int PreferredResponder { get; }
}
