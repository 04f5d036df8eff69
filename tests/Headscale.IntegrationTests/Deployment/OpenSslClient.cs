using System.Diagnostics;

namespace Headscale.IntegrationTests.Deployment;

/// <summary>
/// <c>openssl s_client</c> as a TLS probe: unlike SslStream it can offer old protocol versions and
/// single cipher suites, so the server's refusal (not the client's) can be observed.
/// </summary>
public static class OpenSslClient
{
    public sealed record Handshake(bool Succeeded, string Output)
    {
        /// <summary>The server answered with a protocol_version alert: it refused the offered version.</summary>
        public bool ServerRefusedVersion => Output.Contains("alert protocol version", StringComparison.OrdinalIgnoreCase);

        /// <summary>The local OpenSSL would not even offer what was asked.</summary>
        public bool ClientCannotOffer => Output.Contains("no protocols available", StringComparison.OrdinalIgnoreCase)
            || Output.Contains("no cipher match", StringComparison.OrdinalIgnoreCase);
    }

    public static async Task<Handshake> HandshakeAsync(int port, CancellationToken cancellationToken, params string[] options)
    {
        var start = new ProcessStartInfo("openssl")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in (string[])["s_client", "-connect", $"127.0.0.1:{port}", "-servername", "localhost", .. options])
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("openssl did not start");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(15));
        await process.WaitForExitAsync(timeout.Token);
        var output = await stdout + await stderr;
        var negotiated = output.Contains("Cipher is ", StringComparison.Ordinal) && !output.Contains("Cipher is (NONE)", StringComparison.Ordinal);
        return new Handshake(process.ExitCode == 0 && negotiated, output);
    }
}
