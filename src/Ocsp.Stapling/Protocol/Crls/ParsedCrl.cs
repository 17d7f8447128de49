using System.Formats.Asn1;
using System.Numerics;

namespace Ocsp.Stapling.Internal;

/// <summary>
/// A CRL as read (RFC 5280 §5.1), not yet validated: the signed part, its signature, the fields validation needs, the
/// issuing distribution point's scope, and the listed serials. Read with <see cref="AsnReader"/> in one pass, one small
/// reader per entry and nothing kept per entry but its packed bytes (<see cref="CrlSerials"/>).
/// </summary>
internal sealed class ParsedCrl
{
    private const string CrlNumberOid = "2.5.29.20";
    private const string DeltaCrlIndicatorOid = "2.5.29.27";
    private const string IssuingDistributionPointOid = "2.5.29.28";
    private const string AuthorityKeyIdentifierOid = "2.5.29.35";
    private const string IssuerAltNameOid = "2.5.29.18";
    private const string FreshestCrlOid = "2.5.29.46";
    private const string AuthorityInfoAccessOid = "1.3.6.1.5.5.7.1.1";
    private const string ReasonCodeOid = "2.5.29.21";
    private const string InvalidityDateOid = "2.5.29.24";
    private const string CertificateIssuerOid = "2.5.29.29";

    private ParsedCrl()
    {
    }

    /// <summary>Gets the whole CRL as received (kept in the shared store, written to files).</summary>
    public byte[] Encoded { get; private init; } = [];

    /// <summary>Gets the signed part (<c>tbsCertList</c>), as encoded.</summary>
    public ReadOnlyMemory<byte> Signed { get; private init; }

    /// <summary>Gets the signature algorithm's OID.</summary>
    public string SignatureAlgorithm { get; private init; } = "";

    /// <summary>Gets the signature algorithm's parameters as encoded (empty when absent).</summary>
    public ReadOnlyMemory<byte> SignatureParameters { get; private init; }

    /// <summary>Gets the signature value.</summary>
    public byte[] Signature { get; private init; } = [];

    /// <summary>Gets the issuer's name as encoded (compared with the issuer certificate's subject).</summary>
    public ReadOnlyMemory<byte> Issuer { get; private init; }

    public DateTimeOffset ThisUpdate { get; private init; }

    public DateTimeOffset? NextUpdate { get; private init; }

    /// <summary>Gets the CRL number (RFC 5280 §5.2.3), when the CRL has one.</summary>
    public BigInteger? Number { get; private init; }

    /// <summary>Gets the authority key identifier's key id, when present.</summary>
    public ReadOnlyMemory<byte>? AuthorityKeyId { get; private init; }

    /// <summary>Gets what the issuing distribution point extension says, when present.</summary>
    public CrlScope? Scope { get; private init; }

    /// <summary>Gets why this CRL cannot be used as a complete list (a critical extension not understood, a delta CRL, an indirect entry), or <see langword="null"/>.</summary>
    public string? Unsupported { get; private init; }

    public CrlSerials Revoked { get; private init; } = null!;

    /// <summary>Reads <paramref name="der"/> as a CRL.</summary>
    /// <exception cref="OcspFormatException">It is not a DER CRL (the message says where it broke).</exception>
    public static ParsedCrl Parse(byte[] der)
    {
        try
        {
            return Read(der);
        }
        catch (AsnContentException ex)
        {
            throw new OcspFormatException($"Not a DER CRL: {ex.Message}", ex);
        }
        catch (Exception ex) when (ex is ArgumentException or OverflowException or System.Security.Cryptography.CryptographicException)
        {
            throw new OcspFormatException($"Not a DER CRL: {ex.Message}", ex);
        }
    }

    private static ParsedCrl Read(byte[] der)
    {
        var outer = new AsnReader(der, AsnEncodingRules.DER);
        AsnReader list = outer.ReadSequence();
        outer.ThrowIfNotEmpty();

        ReadOnlyMemory<byte> signed = list.ReadEncodedValue();
        AsnReader algorithm = list.ReadSequence();
        string signatureAlgorithm = algorithm.ReadObjectIdentifier();
        ReadOnlyMemory<byte> parameters = algorithm.HasData ? algorithm.ReadEncodedValue() : ReadOnlyMemory<byte>.Empty;
        byte[] signature = list.ReadBitString(out int unused);
        list.ThrowIfNotEmpty();
        if (unused != 0)
        {
            throw new OcspFormatException("Not a DER CRL: its signature is not a whole number of octets.");
        }

        var tbs = new AsnReader(signed, AsnEncodingRules.DER).ReadSequence();
        if (tbs.PeekTag().HasSameClassAndValue(Asn1Tag.Integer))
        {
            if (!tbs.TryReadInt32(out int version) || version != 1)
            {
                throw new OcspFormatException($"Not a v2 CRL: version {version + 1}.");
            }
        }

        AsnReader innerAlgorithm = tbs.ReadSequence();
        if (innerAlgorithm.ReadObjectIdentifier() != signatureAlgorithm)
        {
            throw new OcspFormatException("Not a valid CRL: the signed and the outer signature algorithms differ (RFC 5280 §5.1.1.2).");
        }

        ReadOnlyMemory<byte> issuer = tbs.ReadEncodedValue();
        DateTimeOffset thisUpdate = ReadTime(tbs);
        DateTimeOffset? nextUpdate = tbs.HasData && IsTime(tbs.PeekTag()) ? ReadTime(tbs) : null;
        string? unsupported = null;
        var revoked = new CrlSerials.Builder();
        if (tbs.HasData && tbs.PeekTag().HasSameClassAndValue(Asn1Tag.Sequence))
        {
            AsnReader entries = tbs.ReadSequence();
            while (entries.HasData)
            {
                AsnReader entry = entries.ReadSequence();
                ReadOnlyMemory<byte> serial = entry.ReadIntegerBytes();
                DateTimeOffset revokedAt = ReadTime(entry);
                OcspRevocationReason? reason = null;
                if (entry.HasData)
                {
                    AsnReader extensions = entry.ReadSequence();
                    while (extensions.HasData)
                    {
                        (string oid, bool critical, byte[] value) = ReadExtension(extensions);
                        switch (oid)
                        {
                            case ReasonCodeOid:
                                reason = new AsnReader(value, AsnEncodingRules.DER).ReadEnumeratedValue<OcspRevocationReason>(); // CRLReason (RFC 5280 §5.3.1): the same values
                                break;
                            case InvalidityDateOid:
                                break;
                            case CertificateIssuerOid:
                                unsupported ??= "an entry names another certificate issuer (an indirect CRL, not supported)";
                                break;
                            default:
                                if (critical)
                                {
                                    unsupported ??= $"an entry has the critical extension {oid}, not understood";
                                }

                                break;
                        }
                    }
                }

                if (serial.Length == 0)
                {
                    throw new OcspFormatException("Not a DER CRL: an entry has an empty serial number.");
                }

                revoked.Add(serial.Span, revokedAt, reason);
            }
        }

        BigInteger? number = null;
        ReadOnlyMemory<byte>? authorityKeyId = null;
        CrlScope? scope = null;
        if (tbs.HasData)
        {
            AsnReader wrapped = tbs.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0));
            AsnReader extensions = wrapped.ReadSequence();
            wrapped.ThrowIfNotEmpty();
            while (extensions.HasData)
            {
                (string oid, bool critical, byte[] value) = ReadExtension(extensions);
                switch (oid)
                {
                    case CrlNumberOid:
                        number = new AsnReader(value, AsnEncodingRules.DER).ReadInteger();
                        break;
                    case AuthorityKeyIdentifierOid:
                        AsnReader aki = new AsnReader(value, AsnEncodingRules.DER).ReadSequence();
                        if (aki.HasData && aki.PeekTag().HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 0)))
                        {
                            authorityKeyId = aki.ReadOctetString(new Asn1Tag(TagClass.ContextSpecific, 0));
                        }

                        break;
                    case IssuingDistributionPointOid:
                        scope = CrlScope.Read(value);
                        break;
                    case DeltaCrlIndicatorOid:
                        unsupported ??= "it is a delta CRL (not supported: a complete CRL is needed)";
                        break;
                    case IssuerAltNameOid or FreshestCrlOid or AuthorityInfoAccessOid:
                        break;
                    default:
                        if (critical)
                        {
                            unsupported ??= $"it has the critical extension {oid}, not understood";
                        }

                        break;
                }
            }
        }

        tbs.ThrowIfNotEmpty();
        return new ParsedCrl
        {
            Encoded = der,
            Signed = signed,
            SignatureAlgorithm = signatureAlgorithm,
            SignatureParameters = parameters,
            Signature = signature,
            Issuer = issuer,
            ThisUpdate = thisUpdate,
            NextUpdate = nextUpdate,
            Number = number,
            AuthorityKeyId = authorityKeyId,
            Scope = scope,
            Unsupported = unsupported,
            Revoked = revoked.Build(),
        };
    }

    private static (string Oid, bool Critical, byte[] Value) ReadExtension(AsnReader extensions)
    {
        AsnReader extension = extensions.ReadSequence();
        string oid = extension.ReadObjectIdentifier();
        bool critical = extension.PeekTag().HasSameClassAndValue(Asn1Tag.Boolean) && extension.ReadBoolean();
        byte[] value = extension.ReadOctetString();
        extension.ThrowIfNotEmpty();
        return (oid, critical, value);
    }

    private static bool IsTime(Asn1Tag tag) => tag.HasSameClassAndValue(Asn1Tag.UtcTime) || tag.HasSameClassAndValue(Asn1Tag.GeneralizedTime);

    private static DateTimeOffset ReadTime(AsnReader reader) =>
        reader.PeekTag().HasSameClassAndValue(Asn1Tag.UtcTime) ? reader.ReadUtcTime() : reader.ReadGeneralizedTime();
}

/// <summary>
/// The issuing distribution point of a CRL (RFC 5280 §5.2.5): the distribution point URLs it is for, and which
/// certificates it covers. A CRL for only some reasons, an indirect one or one for attribute certificates is not a
/// complete list for the certificate (<see cref="Unsupported"/>).
/// </summary>
internal sealed record CrlScope(IReadOnlyList<string> Urls, bool HasName, bool OnlyEndEntities, bool OnlyCas, string? Unsupported)
{
    public static CrlScope Read(byte[] value)
    {
        AsnReader point = new AsnReader(value, AsnEncodingRules.DER).ReadSequence();
        var urls = new List<string>();
        bool hasName = false, onlyUsers = false, onlyCas = false;
        string? unsupported = null;
        while (point.HasData)
        {
            Asn1Tag tag = point.PeekTag();
            switch (tag.TagValue)
            {
                case 0 when tag.TagClass == TagClass.ContextSpecific:
                    hasName = true;
                    AsnReader name = point.ReadSequence(tag);
                    Asn1Tag choice = name.PeekTag();
                    if (choice.TagClass == TagClass.ContextSpecific && choice.TagValue == 0)
                    {
                        urls.AddRange(GeneralNames.Uris(name.ReadSequence(choice)));
                    }
                    else
                    {
                        name.ReadEncodedValue(); // nameRelativeToCRLIssuer: matches no URL
                    }

                    break;
                case 1 when tag.TagClass == TagClass.ContextSpecific:
                    onlyUsers = point.ReadBoolean(tag);
                    break;
                case 2 when tag.TagClass == TagClass.ContextSpecific:
                    onlyCas = point.ReadBoolean(tag);
                    break;
                case 3 when tag.TagClass == TagClass.ContextSpecific:
                    point.ReadEncodedValue();
                    unsupported ??= "it covers only some revocation reasons (onlySomeReasons)";
                    break;
                case 4 when tag.TagClass == TagClass.ContextSpecific:
                    if (point.ReadBoolean(tag))
                    {
                        unsupported ??= "it is an indirect CRL (not supported)";
                    }

                    break;
                case 5 when tag.TagClass == TagClass.ContextSpecific:
                    if (point.ReadBoolean(tag))
                    {
                        unsupported ??= "it covers only attribute certificates";
                    }

                    break;
                default:
                    throw new OcspFormatException($"Not a DER CRL: its issuing distribution point has an unexpected field [{tag.TagValue}].");
            }
        }

        return new CrlScope(urls, hasName, onlyUsers, onlyCas, unsupported);
    }
}

/// <summary>The URIs of GeneralNames (RFC 5280 §4.2.1.6, <c>uniformResourceIdentifier [6] IA5String</c>).</summary>
internal static class GeneralNames
{
    private static readonly Asn1Tag UriTag = new(TagClass.ContextSpecific, 6);

    public static IEnumerable<string> Uris(AsnReader names)
    {
        var uris = new List<string>();
        while (names.HasData)
        {
            if (names.PeekTag().HasSameClassAndValue(UriTag))
            {
                uris.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, UriTag));
            }
            else
            {
                names.ReadEncodedValue();
            }
        }

        return uris;
    }
}
