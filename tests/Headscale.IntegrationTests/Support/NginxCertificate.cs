using System.Diagnostics;
using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace Headscale.IntegrationTests.Support;

/// <summary>
/// A self-signed certificate made with <c>openssl</c> at test time, laid out as certbot lays out a
/// lineage (<c>fullchain.pem</c>, <c>privkey.pem</c>) so the production config can point at it.
/// </summary>
public sealed class NginxCertificate : IDisposable
{
    private readonly X509Certificate2 _certificate;

    private NginxCertificate(string directory, X509Certificate2 certificate)
    {
        Directory = directory;
        _certificate = certificate;
    }

    /// <summary>The lineage directory holding fullchain.pem and privkey.pem.</summary>
    public string Directory { get; }

    public static async Task<NginxCertificate> CreateAsync(CancellationToken cancellationToken)
    {
        var directory = Path.Combine(Path.GetTempPath(), "hs-cert-" + Guid.NewGuid().ToString("N")[..12]);
        System.IO.Directory.CreateDirectory(directory);
        var start = new ProcessStartInfo("openssl")
        {
            ArgumentList =
            {
                "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", Path.Combine(directory, "privkey.pem"), "-out", Path.Combine(directory, "fullchain.pem"),
                "-days", "2", "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("openssl did not start");
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        _ = await process.StandardOutput.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"openssl req failed ({process.ExitCode}): {await stderr}");
        }

        var certificate = X509CertificateLoader.LoadCertificateFromFile(Path.Combine(directory, "fullchain.pem"));
        return new NginxCertificate(directory, certificate);
    }

    /// <summary>Accepts exactly this certificate and nothing else.</summary>
    public bool IsThisCertificate(X509Certificate? presented) =>
        presented is not null && presented.GetCertHashString() == _certificate.GetCertHashString();

    public RemoteCertificateValidationCallback Validator => (_, presented, _, _) => IsThisCertificate(presented);

    public HttpClient CreateHttpClient(Uri baseAddress, bool followRedirects = false)
    {
        var handler = new SocketsHttpHandler
        {
            AllowAutoRedirect = followRedirects,
            SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = Validator },
        };
        return new HttpClient(handler) { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(15) };
    }

    public void Dispose()
    {
        _certificate.Dispose();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
