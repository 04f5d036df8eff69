using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Text;
using Headscale.IntegrationTests.Support;

namespace Headscale.IntegrationTests.Deployment;

/// <summary>
/// A raw HTTP/1.1 Upgrade made the way the Tailscale client opens /ts2021 (POST, Upgrade:
/// tailscale-control-protocol), over plain TCP or TLS; after the 101 the stream is the caller's.
/// </summary>
public sealed class UpgradedConnection : IAsyncDisposable
{
    private readonly TcpClient _client;

    private UpgradedConnection(TcpClient client, Stream stream, string responseHead)
    {
        _client = client;
        Stream = stream;
        ResponseHead = responseHead;
    }

    public Stream Stream { get; }

    /// <summary>The status line and headers of the proxy's answer.</summary>
    public string ResponseHead { get; }

    public int StatusCode => int.Parse(ResponseHead.Split(' ', 3)[1], System.Globalization.CultureInfo.InvariantCulture);

    public static async Task<UpgradedConnection> OpenAsync(int port, string path, string protocol, NginxCertificate? tls, CancellationToken cancellationToken)
    {
        var client = new TcpClient();
        try
        {
            await client.ConnectAsync("127.0.0.1", port, cancellationToken);
            Stream stream = client.GetStream();
            if (tls is not null)
            {
                var ssl = new SslStream(stream, leaveInnerStreamOpen: false, tls.Validator);
                await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
                {
                    TargetHost = "localhost",
                    EnabledSslProtocols = SslProtocols.Tls12 | SslProtocols.Tls13,
                    ApplicationProtocols = [SslApplicationProtocol.Http11],
                }, cancellationToken);
                stream = ssl;
            }

            var request = $"POST {path} HTTP/1.1\r\nHost: localhost\r\nUpgrade: {protocol}\r\nConnection: Upgrade\r\nContent-Length: 0\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(request), cancellationToken);
            var head = await ReadHeadAsync(stream, cancellationToken);
            return new UpgradedConnection(client, stream, head);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    /// <summary>Writes <paramref name="payload"/> and reads the same number of bytes back.</summary>
    public async Task<byte[]> EchoAsync(byte[] payload, CancellationToken cancellationToken)
    {
        var writing = Stream.WriteAsync(payload, cancellationToken).AsTask();
        var received = new byte[payload.Length];
        await Stream.ReadExactlyAsync(received, cancellationToken);
        await writing;
        return received;
    }

    public async ValueTask DisposeAsync()
    {
        await Stream.DisposeAsync();
        _client.Dispose();
    }

    /// <summary>Reads up to the blank line that ends the head, one byte at a time so nothing after it is consumed.</summary>
    private static async Task<string> ReadHeadAsync(Stream stream, CancellationToken cancellationToken)
    {
        var head = new List<byte>(512);
        var one = new byte[1];
        while (head.Count < 16 * 1024)
        {
            if (await stream.ReadAsync(one, cancellationToken) == 0)
            {
                throw new IOException($"connection closed inside the response head: {Encoding.ASCII.GetString(head.ToArray())}");
            }

            head.Add(one[0]);
            if (head.Count >= 4 && head[^4] == '\r' && head[^3] == '\n' && head[^2] == '\r' && head[^1] == '\n')
            {
                return Encoding.ASCII.GetString(head.ToArray());
            }
        }

        throw new IOException("response head longer than 16 KiB");
    }
}
