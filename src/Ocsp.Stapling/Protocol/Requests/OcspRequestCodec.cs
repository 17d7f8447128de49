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
}
