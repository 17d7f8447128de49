using System.Security.Cryptography.X509Certificates;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Ocsp;
using Org.BouncyCastle.Asn1.X509;
using BcOcspResponse = Org.BouncyCastle.Asn1.Ocsp.OcspResponse;

namespace Ocsp.Stapling.Internal;

internal static class OcspResponseCodec
{
    public static OcspResponse Decode(byte[] bytes) => Der.Decode("OCSP response", () =>
    {
        var response = BcOcspResponse.GetInstance(Der.ReadSingleObject(bytes, "OCSP response"));
        int statusValue = response.ResponseStatus.Value.IntValue;
        if (!Enum.IsDefined((OcspResponseStatus)statusValue) || response.ResponseStatus.Value.BitLength > 31)
        {
            throw new OcspFormatException($"The OCSP response status {response.ResponseStatus.Value} is not defined by RFC 6960.");
        }

        var status = (OcspResponseStatus)statusValue;
        ResponseBytes? body = response.ResponseBytes;
        if (status != OcspResponseStatus.Successful || body is null)
        {
            // RFC 6960 §4.2.1: only a successful response carries responseBytes; ignore any on an error status.
            return new OcspResponse(bytes, status);
        }

        string responseType = body.ResponseType.Id;
        if (responseType != OcspResponse.BasicResponseTypeOid)
        {
            return new OcspResponse(bytes, status, responseType, null, null, [], null, [], null);
        }

        var basic = BasicOcspResponse.GetInstance(Der.ReadSingleObject(body.Response.GetOctets(), "basic OCSP response"));
        ResponseData data = basic.TbsResponseData;
        var singles = new List<OcspSingleResponse>(data.Responses.Count);
        foreach (Asn1Encodable item in data.Responses)
        {
            OcspSingleResponse? single = ReadSingle(SingleResponse.GetInstance(item));
            if (single is not null)
            {
                singles.Add(single);
            }
        }

        return new OcspResponse(
            bytes,
            status,
            responseType,
            Der.ToDateTimeOffset(data.ProducedAt),
            ReadResponderId(data.ResponderID),
            singles,
            Nonces.Read(data.ResponseExtensions),
            ReadCertificates(basic.Certs),
            basic);
    });

    private static OcspSingleResponse? ReadSingle(SingleResponse single)
    {
        OcspCertificateId? id = CertIds.FromAsn1(single.CertId);
        if (id is null)
        {
            return null;
        }

        CertStatus certStatus = single.CertStatus;
        OcspCertificateStatus status;
        DateTimeOffset? revocationTime = null;
        OcspRevocationReason? reason = null;
        switch (certStatus.TagNo)
        {
            case 0:
                status = OcspCertificateStatus.Good;
                break;
            case 1:
                status = OcspCertificateStatus.Revoked;
                var info = RevokedInfo.GetInstance(certStatus.Status);
                revocationTime = Der.ToDateTimeOffset(info.RevocationTime);
                if (info.RevocationReason is { } crlReason)
                {
                    reason = (OcspRevocationReason)crlReason.Value.IntValue;
                }

                break;
            case 2:
                status = OcspCertificateStatus.Unknown;
                break;
            default:
                throw new OcspFormatException($"Unknown CertStatus tag [{certStatus.TagNo}].");
        }

        return new OcspSingleResponse(
            id,
            status,
            Der.ToDateTimeOffset(single.ThisUpdate),
            single.NextUpdate is null ? null : Der.ToDateTimeOffset(single.NextUpdate),
            revocationTime,
            reason);
    }

    private static OcspResponderId ReadResponderId(ResponderID id)
    {
        Asn1Object asn1 = id.ToAsn1Object();
        if (asn1 is Asn1TaggedObject { TagNo: 2 } tagged)
        {
            return new OcspResponderId(null, Asn1OctetString.GetInstance(tagged, true).GetOctets());
        }

        X509Name name = id.Name ?? throw new OcspFormatException("The ResponderID is neither byName nor byKey.");
        return new OcspResponderId(new X500DistinguishedName(name.GetDerEncoded()), null);
    }

    private static byte[][] ReadCertificates(Asn1Sequence? certs)
    {
        if (certs is null)
        {
            return [];
        }

        var result = new byte[certs.Count][];
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = X509CertificateStructure.GetInstance(certs[i]).GetDerEncoded();
        }

        return result;
    }
}
