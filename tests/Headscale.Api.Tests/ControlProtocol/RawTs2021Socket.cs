using System.Net.Sockets;
using System.Text;

namespace Headscale.Api.Tests.ControlProtocol;

/// <summary>A hand-driven /ts2021 connection for bad-input tests: it writes exactly what a test asks and records what the server answers.</summary>
internal sealed class RawTs2021Socket : IAsyncDisposable
{
    private readonly TcpClient _tcp;
    private readonly NetworkStream _stream;
    private readonly List<byte> _received = [];

    private RawTs2021Socket(TcpClient tcp)
    {
        _tcp = tcp;
        _stream = tcp.GetStream();
    }

    public static async Task<RawTs2021Socket> ConnectAsync(Uri server, CancellationToken cancellationToken)
    {
        var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(server.Host, server.Port, cancellationToken);
        return new RawTs2021Socket(tcp);
    }

    public Task SendUpgradeAsync(string? handshakeHeader, CancellationToken cancellationToken, string upgrade = "tailscale-control-protocol")
    {
        var request = new StringBuilder("POST /ts2021 HTTP/1.1\r\nHost: test\r\nConnection: upgrade\r\n");
        request.Append("Upgrade: ").Append(upgrade).Append("\r\n");
        if (handshakeHeader is not null)
        {
            request.Append("X-Tailscale-Handshake: ").Append(handshakeHeader).Append("\r\n");
        }

        request.Append("Content-Length: 0\r\n\r\n");
        return SendAsync(Encoding.ASCII.GetBytes(request.ToString()), cancellationToken);
    }

    public async Task SendAsync(byte[] bytes, CancellationToken cancellationToken)
    {
        await _stream.WriteAsync(bytes, cancellationToken);
        await _stream.FlushAsync(cancellationToken);
    }

    /// <summary>Reads until the server closes the connection (or resets it) and returns everything it sent.</summary>
    public async Task<byte[]> ReadToEndAsync(CancellationToken cancellationToken)
    {
        var buffer = new byte[8192];
        try
        {
            int read;
            while ((read = await _stream.ReadAsync(buffer, cancellationToken)) > 0)
            {
                _received.AddRange(buffer.AsSpan(0, read));
            }
        }
        catch (IOException)
        {
            // A reset is a close as far as these tests are concerned.
        }

        return [.. _received];
    }

    /// <summary>Reads until <paramref name="count"/> bytes arrived after the HTTP response head.</summary>
    public async Task<(string Head, byte[] Body)> ReadHeadAndAsync(int count, CancellationToken cancellationToken)
    {
        var buffer = new byte[8192];
        while (true)
        {
            var (head, body) = Split([.. _received]);
            if (head is not null && body.Length >= count)
            {
                return (head, body);
            }

            var read = await _stream.ReadAsync(buffer, cancellationToken);
            if (read == 0)
            {
                throw new IOException($"server closed after {_received.Count} bytes");
            }

            _received.AddRange(buffer.AsSpan(0, read));
        }
    }

    public static (string? Head, byte[] Body) Split(byte[] all)
    {
        var end = all.AsSpan().IndexOf("\r\n\r\n"u8);
        return end < 0 ? (null, []) : (Encoding.ASCII.GetString(all, 0, end), all[(end + 4)..]);
    }

    public ValueTask DisposeAsync()
    {
        _tcp.Dispose();
        return ValueTask.CompletedTask;
    }
}
