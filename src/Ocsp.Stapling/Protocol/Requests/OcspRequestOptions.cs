namespace Ocsp.Stapling;

/// <summary>Options for building an OCSP request.</summary>
public sealed class OcspRequestOptions
{
    /// <summary>The smallest nonce RFC 9654 §2.1 allows, in octets.</summary>
    public const int MinNonceLength = 1;

    /// <summary>The largest nonce RFC 9654 §2.1 allows, in octets.</summary>
    public const int MaxNonceLength = 128;

    /// <summary>Gets or sets the CertID hash algorithm.</summary>
    /// <value>The default value is <see cref="OcspHashAlgorithm.Sha1"/>, which RFC 5019 responders must support.</value>
    public OcspHashAlgorithm HashAlgorithm { get; set; } = OcspHashAlgorithm.Sha1;

    /// <summary>
    /// Gets or sets a value indicating whether a random nonce is sent. A nonce makes the response uncacheable:
    /// RFC 5019 responders (most public CAs) ignore it and answer from a pre-signed cache.
    /// </summary>
    /// <value>The default value is <see langword="false"/>.</value>
    public bool IncludeNonce { get; set; }

    /// <summary>Gets or sets the length of the random nonce, from <see cref="MinNonceLength"/> to <see cref="MaxNonceLength"/>.</summary>
    /// <value>The default value is 32, the length RFC 9654 §2.1 tells clients to use.</value>
    public int NonceLength { get; set; } = 32;
}
