using System.Buffers;
using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Headscale.Protocol.Noise;

namespace Headscale.Protocol.Client;

/// <summary>
/// One client ts2021 connection: TCP (or TLS), the HTTP/1.1 upgrade, the Noise handshake, then a plaintext duplex stream
/// on which the early payload (if any) is taken off before the caller sees HTTP/2.
/// </summary>
public sealed class Ts2021Connection : IAsyncDisposable
{
    public const string UpgradeHeaderValue = "tailscale-control-protocol";
    public const string HandshakeHeaderName = "X-Tailscale-Handshake";
    private const int MaxResponseHeadSize = 16 * 1024;

    private readonly Stream _network;
    private readonly NoiseConnection _noise;
    private readonly TaskCompletionSource<EarlyNoise?> _earlyNoise = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _disposed;

    private Ts2021Connection(Stream network, NoiseConnection noise)
    {
        _network = network;
        _noise = noise;
        Stream = new DuplexPipeStream(new EarlyPayloadStrippingReader(noise.Input, _earlyNoise), noise.Output, DisposeAsync);
    }

    /// <summary>Plaintext stream for HTTP/2 (the early payload already removed).</summary>
    public Stream Stream { get; }

    public NoiseTransportKeys Keys => _noise.Keys;

    /// <summary>The server's early payload; completes with null if the server sent none, once the first plaintext arrives.</summary>
    public Task<EarlyNoise?> EarlyNoise => _earlyNoise.Task;

    /// <summary>Why the transport broke, if the server violated the protocol.</summary>
    public NoiseProtocolException? Fault => _noise.Fault;

    public static async Task<Ts2021Connection> ConnectAsync(Ts2021ClientOptions options, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.HandshakeTimeout);
        if (options.UseWebSocket)
        {
            return await ConnectWebSocketAsync(options, timeout.Token, cancellationToken).ConfigureAwait(false);
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        Stream? network = null;
        try
        {
            await socket.ConnectAsync(options.ServerUrl.Host, options.ServerUrl.Port, timeout.Token).ConfigureAwait(false);
            network = new NetworkStream(socket, ownsSocket: true);
            if (options.ServerUrl.Scheme == Uri.UriSchemeHttps)
            {
                // Noise authenticates the server; like Tailscale's client, certificate errors do not matter here.
                var tls = new SslStream(network, leaveInnerStreamOpen: false, (_, _, _, _) => true);
                await tls.AuthenticateAsClientAsync(
                    new SslClientAuthenticationOptions { TargetHost = options.ServerUrl.IdnHost }, timeout.Token).ConfigureAwait(false);
                network = tls;
            }

            var connection = await HandshakeAsync(network, options, timeout.Token).ConfigureAwait(false);
            return connection;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await DisposeQuietlyAsync(network, socket).ConfigureAwait(false);
            throw new TimeoutException($"ts2021 handshake with {options.ServerUrl} did not finish within {options.HandshakeTimeout}.");
        }
        catch
        {
            await DisposeQuietlyAsync(network, socket).ConfigureAwait(false);
            throw;
        }
    }

    private static async Task<Ts2021Connection> ConnectWebSocketAsync(
        Ts2021ClientOptions options, CancellationToken timeout, CancellationToken cancellationToken)
    {
        var initiation = new byte[NoiseMessages.InitiationSize];
        using var initiator = NoiseHandshake.Initiate(options.ProtocolVersion, options.MachineKey, options.ServerKey, initiation);
        var scheme = options.ServerUrl.Scheme == Uri.UriSchemeHttps ? "wss" : "ws";
        var uri = new Uri($"{scheme}://{options.ServerUrl.Authority}/ts2021?{HandshakeHeaderName}={Uri.EscapeDataString(Convert.ToBase64String(initiation))}");
        var socket = new System.Net.WebSockets.ClientWebSocket();
        socket.Options.AddSubProtocol(UpgradeHeaderValue);
        Stream? stream = null;
        try
        {
            await socket.ConnectAsync(uri, timeout).ConfigureAwait(false);
            stream = System.Net.WebSockets.WebSocketStream.Create(socket, System.Net.WebSockets.WebSocketMessageType.Binary, ownsWebSocket: true);
            var reader = PipeReader.Create(stream, options.WireReaderOptions);
            var writer = PipeWriter.Create(stream, options.WireWriterOptions);
            var response = await ReadHandshakeResponseAsync(reader, timeout).ConfigureAwait(false);
            var keys = initiator.Complete(response);
            return new Ts2021Connection(stream, NoiseConnection.Start(new RawPipe(reader, writer), keys, options.NoiseOptions));
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await DisposeQuietlyAsync(stream, socket).ConfigureAwait(false);
            throw new TimeoutException($"ts2021 WebSocket handshake with {options.ServerUrl} did not finish within {options.HandshakeTimeout}.");
        }
        catch
        {
            await DisposeQuietlyAsync(stream, socket).ConfigureAwait(false);
            throw;
        }
    }

    private static async Task<Ts2021Connection> HandshakeAsync(Stream network, Ts2021ClientOptions options, CancellationToken cancellationToken)
    {
        var initiation = new byte[NoiseMessages.InitiationSize];
        using var initiator = NoiseHandshake.Initiate(options.ProtocolVersion, options.MachineKey, options.ServerKey, initiation);
        var authority = options.Authority ?? options.ServerUrl.Authority;
        var request = Encoding.ASCII.GetBytes(
            $"POST /ts2021 HTTP/1.1\r\nHost: {authority}\r\nUpgrade: {UpgradeHeaderValue}\r\nConnection: upgrade\r\n"
            + $"{HandshakeHeaderName}: {Convert.ToBase64String(initiation)}\r\n{ExtraHeaderLines(options.ExtraUpgradeHeaders)}Content-Length: 0\r\n\r\n");
        await network.WriteAsync(request, cancellationToken).ConfigureAwait(false);
        await network.FlushAsync(cancellationToken).ConfigureAwait(false);

        var reader = PipeReader.Create(network, options.WireReaderOptions);
        var writer = PipeWriter.Create(network, options.WireWriterOptions);
        await ReadUpgradeResponseAsync(reader, cancellationToken).ConfigureAwait(false);
        var response = await ReadHandshakeResponseAsync(reader, cancellationToken).ConfigureAwait(false);
        var keys = initiator.Complete(response);
        var noise = NoiseConnection.Start(new RawPipe(reader, writer), keys, options.NoiseOptions);
        return new Ts2021Connection(network, noise);
    }

    private static string ExtraHeaderLines(IReadOnlyList<string> lines)
    {
        foreach (var line in lines)
        {
            if (line.AsSpan().IndexOfAny('\r', '\n') >= 0 || !line.Contains(':', StringComparison.Ordinal))
            {
                throw new ArgumentException($"extra upgrade header \"{line}\" is not one \"Name: value\" line", nameof(lines));
            }
        }

        return string.Concat(lines.Select(static line => line + "\r\n"));
    }

    private static async Task ReadUpgradeResponseAsync(PipeReader reader, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            var position = FindSequence(buffer, "\r\n\r\n"u8);
            if (position is { } end)
            {
                var head = Encoding.ASCII.GetString(buffer.Slice(0, end));
                reader.AdvanceTo(buffer.GetPosition(end + 4));
                CheckUpgradeHead(head);
                return;
            }

            if (buffer.Length > MaxResponseHeadSize)
            {
                throw new NoiseProtocolException($"upgrade response head is longer than {MaxResponseHeadSize} bytes");
            }

            if (result.IsCompleted)
            {
                throw new NoiseProtocolException("server closed the connection before answering the upgrade");
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static void CheckUpgradeHead(string head)
    {
        var lines = head.Split("\r\n");
        var status = lines[0].Split(' ', 3);
        if (status.Length < 2 || status[1] != "101")
        {
            throw new NoiseProtocolException($"server answered the upgrade with \"{lines[0]}\" instead of 101");
        }

        var upgrade = lines.Skip(1)
            .Select(line => line.Split(':', 2))
            .FirstOrDefault(parts => parts.Length == 2 && parts[0].Trim().Equals("Upgrade", StringComparison.OrdinalIgnoreCase));
        if (upgrade is null || upgrade[1].Trim() != UpgradeHeaderValue)
        {
            throw new NoiseProtocolException($"server upgraded to \"{upgrade?[1].Trim()}\" instead of \"{UpgradeHeaderValue}\"");
        }
    }

    private static async Task<byte[]> ReadHandshakeResponseAsync(PipeReader reader, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (buffer.Length >= NoiseMessages.HeaderSize)
            {
                var header = buffer.Slice(0, NoiseMessages.HeaderSize).ToArray();
                var length = NoiseInitiator.PayloadLength(header, out _);
                if (buffer.Length >= NoiseMessages.HeaderSize + length)
                {
                    var message = buffer.Slice(0, NoiseMessages.HeaderSize + length).ToArray();
                    reader.AdvanceTo(buffer.GetPosition(message.Length));
                    return message;
                }
            }

            if (result.IsCompleted)
            {
                throw new NoiseProtocolException("server closed the connection during the handshake");
            }

            reader.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static long? FindSequence(ReadOnlySequence<byte> buffer, ReadOnlySpan<byte> value)
    {
        var reader = new SequenceReader<byte>(buffer);
        return reader.TryReadTo(out ReadOnlySequence<byte> before, value, advancePastDelimiter: false) ? before.Length : null;
    }

    private static async ValueTask DisposeQuietlyAsync(Stream? network, IDisposable socket)
    {
        if (network is not null)
        {
            await network.DisposeAsync().ConfigureAwait(false);
        }

        socket.Dispose();
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await Stream.DisposeAsync().ConfigureAwait(false);
        await _noise.DisposeAsync().ConfigureAwait(false);
        await _network.DisposeAsync().ConfigureAwait(false);
        _earlyNoise.TrySetResult(null);
    }

    private sealed record RawPipe(PipeReader Input, PipeWriter Output) : IDuplexPipe;
}
