using System.CommandLine;
using System.Globalization;
using System.Text;

namespace Ocsp.Stapling.Tool;

/// <summary><c>inspect</c>: a readable dump of a DER response, like <c>openssl ocsp -respin … -resp_text</c>, optionally validated.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("response") { Description = "The DER response file (e.g. site.pem.ocsp)." };
        var cert = new Option<string?>("--cert") { Description = "Validate the response for this certificate (PEM or DER)." };
        var issuer = new Option<string?>("--issuer") { Description = "The issuer, when --cert holds only the leaf." };
        var command = new Command("inspect", "Print an OCSP response in readable form; with --cert, validate it as the stapler would.") { file, cert, issuer };
        command.SetAction((result, _) => ToolRunner.RunAsync(() =>
        {
            string path = result.GetValue(file)!;
            if (!File.Exists(path))
            {
                throw new ToolException(ExitCodes.NoInput, $"'{path}': no such file.");
            }

            byte[] der = File.ReadAllBytes(path);
            OcspResponse response;
            try
            {
                response = OcspResponse.Parse(der);
            }
            catch (OcspFormatException ex)
            {
                throw new ToolException(ExitCodes.BadInput, $"'{path}' is not a DER OCSP response: {ex.Message}");
            }

            Console.Write(Describe(response));
            if (result.GetValue(cert) is { } certPath)
            {
                CertificatePair pair = CertificatePair.Load(certPath, result.GetValue(issuer));
                OcspValidationResult validation = OcspResponseValidator.Validate(der, pair.Certificate, pair.Issuer, TimeProvider.System.GetUtcNow());
                Console.WriteLine(validation.IsValid
                    ? $"Validation for {pair.Name}: OK ({ResponseFiles.Describe(validation.Staple)})"
                    : $"Validation for {pair.Name}: FAILED, {validation.Failure}: {validation.Message}");
                return Task.FromResult(validation.IsValid ? ExitCodes.Ok : ExitCodes.BadInput);
            }

            return Task.FromResult(ExitCodes.Ok);
        }));
        return command;
    }

    private static string Describe(OcspResponse response)
    {
        var text = new StringBuilder();
        IFormatProvider c = CultureInfo.InvariantCulture;
        text.AppendLine("OCSP Response Data:");
        text.AppendLine(c, $"    OCSP Response Status: {response.Status} ({(int)response.Status})");
        if (!response.IsBasic)
        {
            return text.ToString();
        }

        text.AppendLine(c, $"    Response Type: Basic OCSP Response ({OcspResponse.BasicResponseTypeOid})");
        text.AppendLine(c, $"    Responder Id: {response.ResponderId}");
        text.AppendLine(c, $"    Produced At: {response.ProducedAt:u}");
        text.AppendLine("    Responses:");
        foreach (OcspSingleResponse single in response.Responses)
        {
            OcspCertificateId id = single.CertificateId;
            text.AppendLine(c, $"    Certificate ID:");
            text.AppendLine(c, $"      Hash Algorithm: {id.HashAlgorithm}");
            text.AppendLine(c, $"      Issuer Name Hash: {Convert.ToHexString(id.IssuerNameHash.Span)}");
            text.AppendLine(c, $"      Issuer Key Hash: {Convert.ToHexString(id.IssuerKeyHash.Span)}");
            text.AppendLine(c, $"      Serial Number: {id.SerialNumberHex}");
            text.AppendLine(c, $"    Cert Status: {single.Status.ToString().ToLowerInvariant()}");
            if (single.RevocationTime is { } revoked)
            {
                text.AppendLine(c, $"    Revocation Time: {revoked:u}");
                text.AppendLine(c, $"    Revocation Reason: {single.RevocationReason?.ToString() ?? "unspecified"}");
            }

            text.AppendLine(c, $"    This Update: {single.ThisUpdate:u}");
            text.AppendLine(c, $"    Next Update: {(single.NextUpdate is { } next ? next.ToString("u", c) : "(none)")}");
        }

        if (response.HasNonce)
        {
            text.AppendLine(c, $"    Nonce: {Convert.ToHexString(response.Nonce.Span)}");
        }

        foreach (var certificate in response.Certificates)
        {
            text.AppendLine(c, $"    Certificate: {Internal.CertificateNames.Subject(certificate)} (issuer {Internal.CertificateNames.Issuer(certificate)}, serial {certificate.SerialNumber})");
        }

        return text.ToString();
    }
}
