using System.Formats.Asn1;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Ocsp;
using BcOcspRequest = Org.BouncyCastle.Asn1.Ocsp.OcspRequest;

namespace Ocsp.Stapling.Internal;

internal static class OcspRequestCodec
{
    public static byte[] Encode(OcspCertificateId id, byte[]? nonce)
    {
        var request = new Request(CertIds.ToAsn1(id), null);
        var tbs = new TbsRequest(null, new DerSequence(request), nonce is null ? null : Nonces.CreateExtensions(nonce));
        return new BcOcspRequest(tbs, null).GetDerEncoded();
    }

    public static OcspRequest Decode(ReadOnlySpan<byte> encoded)
    {
        byte[] bytes = encoded.ToArray();
        if (TryDecodeSingle(bytes) is { } single)
        {
            return single;
        }

        return Der.Decode("OCSP request", () =>
        {
            var request = BcOcspRequest.GetInstance(Der.ReadSingleObject(bytes, "OCSP request"));
            Asn1Sequence list = request.TbsRequest.RequestList;
            if (list.Count == 0)
            {
                throw new OcspFormatException("The OCSP request asks for no certificate.");
            }

            var ids = new List<OcspCertificateId>(list.Count);
            foreach (Asn1Encodable item in list)
            {
                CertID certId = Request.GetInstance(item).ReqCert;
                ids.Add(CertIds.FromAsn1(certId)
                    ?? throw new OcspFormatException($"The OCSP request uses the unsupported CertID hash algorithm {certId.HashAlgorithm.Algorithm.Id}."));
            }

            return new OcspRequest(ids, Nonces.Read(request.TbsRequest.RequestExtensions), bytes);
        });
    }

    /// <summary>
    /// The shape nearly every request has (RFC 5019: one certificate, no nonce, no signature, no version, no requestor
    /// name, no extensions), read in place with no object per ASN.1 element: what a caching proxy decodes on every
    /// request. Anything else, or anything this reader does not accept as DER, is left to the full decoder (which gives
    /// the same result, or the error).
    /// </summary>
    internal static OcspRequest? TryDecodeSingle(byte[] bytes)
    {
        try
        {
            const AsnEncodingRules Rules = AsnEncodingRules.DER;
            ReadOnlySpan<byte> outer = Contents(bytes, out bool whole);
            if (!whole)
            {
                return null; // bytes after the request
            }

            ReadOnlySpan<byte> tbs = Contents(outer, out whole);                   // TBSRequest, no optionalSignature after it
            ReadOnlySpan<byte> list = whole ? Contents(tbs, out whole) : default;  // requestList first (no version, no requestorName), no requestExtensions after it
            ReadOnlySpan<byte> request = whole ? Contents(list, out whole) : default; // one Request
            ReadOnlySpan<byte> certId = whole ? Contents(request, out whole) : default; // its CertID, no singleRequestExtensions
            if (!whole)
            {
                return null;
            }

            AsnDecoder.ReadSequence(certId, Rules, out int algorithmOffset, out int algorithmLength, out int algorithmConsumed);
            ReadOnlySpan<byte> algorithm = certId.Slice(algorithmOffset, algorithmLength);
            AsnDecoder.ReadEncodedValue(algorithm, Rules, out _, out _, out int oidLength);
            ReadOnlySpan<byte> parameters = algorithm[oidLength..];
            if (HashOf(algorithm[..oidLength]) is not { } hash || !(parameters.IsEmpty || parameters.SequenceEqual(DerNullEncoding)))
            {
                return null;
            }

            ReadOnlySpan<byte> rest = certId[algorithmConsumed..];
            if (!AsnDecoder.TryReadPrimitiveOctetString(rest, Rules, out ReadOnlySpan<byte> nameHash, out int consumed))
            {
                return null;
            }

            rest = rest[consumed..];
            if (!AsnDecoder.TryReadPrimitiveOctetString(rest, Rules, out ReadOnlySpan<byte> keyHash, out consumed))
            {
                return null;
            }

            rest = rest[consumed..];
            ReadOnlySpan<byte> serial = AsnDecoder.ReadIntegerBytes(rest, Rules, out consumed);
            if (consumed != rest.Length || nameHash.Length != HashAlgorithms.HashSize(hash) || keyHash.Length != nameHash.Length)
            {
                return null;
            }

            return new OcspRequest([new OcspCertificateId(hash, nameHash, keyHash, serial)], null, bytes);
        }
        catch (AsnContentException)
        {
            return null;
        }

        static ReadOnlySpan<byte> Contents(ReadOnlySpan<byte> encoded, out bool whole)
        {
            AsnDecoder.ReadSequence(encoded, AsnEncodingRules.DER, out int offset, out int length, out int consumed);
            whole = consumed == encoded.Length;
            return encoded.Slice(offset, length);
        }
    }

    private static ReadOnlySpan<byte> DerNullEncoding => [0x05, 0x00];

    /// <summary>The hash algorithm an encoded OBJECT IDENTIFIER (tag, length, value) names, compared as bytes.</summary>
    private static OcspHashAlgorithm? HashOf(ReadOnlySpan<byte> oid) => oid switch
    {
        [0x06, 0x05, 0x2B, 0x0E, 0x03, 0x02, 0x1A] => OcspHashAlgorithm.Sha1,                                  // 1.3.14.3.2.26
        [0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01] => OcspHashAlgorithm.Sha256,        // 2.16.840.1.101.3.4.2.1
        [0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02] => OcspHashAlgorithm.Sha384,
        [0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03] => OcspHashAlgorithm.Sha512,
        _ => null,
    };
}
