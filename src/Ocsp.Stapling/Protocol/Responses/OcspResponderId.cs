using System.Security.Cryptography.X509Certificates;

namespace Ocsp.Stapling;

/// <summary>The <c>ResponderID</c> of a basic OCSP response (RFC 6960 §4.2.1): the signer's name or the SHA-1 hash of its public key.</summary>
public sealed class OcspResponderId
{
    private readonly byte[]? _keyHash;

    internal OcspResponderId(X500DistinguishedName? name, byte[]? keyHash)
    {
        Name = name;
        _keyHash = keyHash;
    }

    /// <summary>Gets the responder's distinguished name, or <see langword="null"/> when it is identified by key.</summary>
    public X500DistinguishedName? Name { get; }

    /// <summary>Gets a value indicating whether the responder is identified by the hash of its key (<c>byKey</c>).</summary>
    public bool IsByKey => _keyHash is not null;

    /// <summary>Gets the SHA-1 hash of the responder's public key (empty when identified by name).</summary>
    public ReadOnlyMemory<byte> KeyHash => _keyHash;

    /// <inheritdoc />
    public override string ToString() => IsByKey ? $"byKey {Convert.ToHexStringLower(_keyHash!)}" : $"byName {Name?.Name}";
}
