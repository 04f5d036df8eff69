using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Headscale.Derp.Keys;
using Headscale.Derp.Protocol;

namespace Headscale.Derp.Client;

/// <summary>
/// A DERP client over the HTTP upgrade (<c>http://</c>, <c>https://</c>) or WebSocket (<c>ws://</c>, <c>wss://</c>), used by
/// tests, the mesh and benchmarks. Sends may come from several threads (serialised by a lock); receives from one.
/// <see cref="ConnectAsync"/> returns after ServerInfo, so the server has registered the client by then.
/// </summary>
public sealed class DerpClient : IAsyncDisposable
{
    private readonly IDuplexPipe _pipe;
    private readonly Stream _stream;
    private readonly DerpPrivateKey _key;
    private readonly SemaphoreSlim _writeLock = new(1, 1);

    private DerpClient(Stream stream, IDuplexPipe pipe, DerpPrivateKey key)
    {
        _stream = stream;
        _pipe = pipe;
        _key = key;
    }

    public DerpPublicKey PublicKey => _key.PublicKey;
    public DerpPublicKey ServerKey { get; private set; }
    public DerpServerInfo ServerInfo { get; private set; } = new();

    public static async Task<DerpClient> ConnectAsync(Uri url, DerpPrivateKey key, DerpClientOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        options ??= new DerpClientOptions();
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(options.ConnectTimeout);
        var stream = url.Scheme switch
        {
            "ws" or "wss" => await ConnectWebSocketAsync(url, options, timeout.Token),
            "http" or "https" => await ConnectTcpAsync(url, options, timeout.Token),
            _ => throw new ArgumentException($"DERP URL scheme must be http, https, ws or wss, got '{url.Scheme}'.", nameof(url)),
        };
        var pipe = new StreamDuplexPipe(stream);
        var client = new DerpClient(stream, pipe, key);
        try
        {
            if (url.Scheme is "http" or "https" && !options.FastStart)
                await ReadUpgradeResponseAsync(pipe.Input, timeout.Token);
            await client.HandshakeAsync(options, timeout.Token);
            return client;
        }
        catch
        {
            await client.DisposeAsync();
            throw;
        }
    }

    /// <summary>Runs the DERP handshake over an already-upgraded transport.</summary>
    public static async Task<DerpClient> ConnectAsync(Stream upgraded, DerpPrivateKey key, DerpClientOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        var client = new DerpClient(upgraded, new StreamDuplexPipe(upgraded), key);
        await client.HandshakeAsync(options ?? new DerpClientOptions(), cancellationToken);
        return client;
    }

    private static async Task<Stream> ConnectTcpAsync(Uri url, DerpClientOptions options, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(url.Host, url.Port, cancellationToken);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        Stream stream = new NetworkStream(socket, ownsSocket: true);
        if (url.Scheme == "https")
        {
            var ssl = new SslStream(stream, leaveInnerStreamOpen: false);
            await ssl.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = url.Host,
                RemoteCertificateValidationCallback = options.InsecureSkipVerify ? (_, _, _, _) => true : null,
            }, cancellationToken);
            stream = ssl;
        }
        var path = string.IsNullOrEmpty(url.AbsolutePath) || url.AbsolutePath == "/" ? "/derp" : url.AbsolutePath;
        var request = $"GET {path} HTTP/1.1\r\nHost: {url.Authority}\r\nUpgrade: DERP\r\nConnection: Upgrade\r\n"
                      + (options.FastStart ? "Derp-Fast-Start: 1\r\n" : "") + "\r\n";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(request), cancellationToken);
        return stream;
    }

    private static async Task<Stream> ConnectWebSocketAsync(Uri url, DerpClientOptions options, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("derp");
        if (options.InsecureSkipVerify) socket.Options.RemoteCertificateValidationCallback = (_, _, _, _) => true;
        await socket.ConnectAsync(url, cancellationToken);
        return WebSocketStream.Create(socket, WebSocketMessageType.Binary, ownsWebSocket: true);
    }

    /// <summary>Reads the HTTP response head; anything but 101 is an error carrying the status line and body start.</summary>
    private static async Task ReadUpgradeResponseAsync(PipeReader input, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            var reader = new SequenceReader<byte>(buffer);
            if (reader.TryReadTo(out ReadOnlySequence<byte> head, "\r\n\r\n"u8))
            {
                var text = Encoding.ASCII.GetString(head.ToArray());
                if (!text.StartsWith("HTTP/1.1 101", StringComparison.Ordinal) && !text.StartsWith("HTTP/1.0 101", StringComparison.Ordinal))
                {
                    var body = Encoding.UTF8.GetString(buffer.Slice(reader.Position).ToArray());
                    input.AdvanceTo(buffer.End);
                    throw new DerpProtocolException($"DERP upgrade refused: {text.Split('\n')[0].Trim()} {body.Trim()}");
                }
                input.AdvanceTo(reader.Position);
                return;
            }
            if (buffer.Length > 16 << 10) throw new DerpProtocolException("DERP upgrade response head is larger than 16 KiB.");
            if (result.IsCompleted) throw new DerpProtocolException("Connection closed during the DERP upgrade response.");
            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private async Task HandshakeAsync(DerpClientOptions options, CancellationToken cancellationToken)
    {
        var serverKeyFrame = await ReadFrameCopyAsync(DerpFrameType.ServerKey, cancellationToken);
        ServerKey = DerpHandshake.ReadServerKey(new ReadOnlySequence<byte>(serverKeyFrame));
        DerpHandshake.WriteClientInfo(_pipe.Output, _key, ServerKey, new DerpClientInfo
        {
            Version = DerpConstants.ProtocolVersion,
            CanAckPings = true,
            MeshKey = options.MeshKey,
            IsProber = options.IsProber,
        });
        await _pipe.Output.FlushAsync(cancellationToken);
        var serverInfoFrame = await ReadFrameCopyAsync(DerpFrameType.ServerInfo, cancellationToken);
        ServerInfo = DerpHandshake.ReadServerInfo(new ReadOnlySequence<byte>(serverInfoFrame), _key, ServerKey);
    }

    private async Task<byte[]> ReadFrameCopyAsync(DerpFrameType expected, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await _pipe.Input.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            if (DerpFrameReader.TryReadFrame(ref buffer, DerpConstants.MaxClientFrameLength, out var type, out var payload))
            {
                var bytes = payload.ToArray();
                _pipe.Input.AdvanceTo(buffer.Start);
                if (type != expected)
                    throw new DerpProtocolException($"Expected frame {expected}, got 0x{(byte)type:x2}.");
                return bytes;
            }
            if (result.IsCompleted) throw new DerpProtocolException($"Connection closed while waiting for {expected}.");
            _pipe.Input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    public ValueTask SendPacketAsync(DerpPublicKey destination, ReadOnlyMemory<byte> packet, CancellationToken cancellationToken = default)
    {
        if (packet.Length > DerpConstants.MaxPacketSize)
            throw new ArgumentException($"Packet of {packet.Length} bytes exceeds {DerpConstants.MaxPacketSize}.", nameof(packet));
        return WriteAsync(static (w, s) => DerpFrameWriter.WriteKeyAndPacket(w, DerpFrameType.SendPacket, s.destination, s.packet.Span),
            (destination, packet), cancellationToken);
    }

    public ValueTask ForwardPacketAsync(DerpPublicKey source, DerpPublicKey destination, ReadOnlyMemory<byte> packet,
        CancellationToken cancellationToken = default) =>
        WriteAsync(static (w, s) => DerpFrameWriter.WriteForwardPacket(w, s.source, s.destination, s.packet.Span),
            (source, destination, packet), cancellationToken);

    public ValueTask NotePreferredAsync(bool preferred, CancellationToken cancellationToken = default) =>
        WriteAsync(static (w, p) => DerpFrameWriter.WriteNotePreferred(w, p), preferred, cancellationToken);

    public ValueTask PingAsync(ulong data, CancellationToken cancellationToken = default) =>
        WriteAsync(static (w, d) => DerpFrameWriter.WritePingOrPong(w, DerpFrameType.Ping, d), data, cancellationToken);

    public ValueTask WatchConnsAsync(CancellationToken cancellationToken = default) =>
        WriteAsync(static (w, _) => DerpFrameWriter.WriteEmpty(w, DerpFrameType.WatchConns), 0, cancellationToken);

    public ValueTask ClosePeerAsync(DerpPublicKey peer, CancellationToken cancellationToken = default) =>
        WriteAsync(static (w, k) => DerpFrameWriter.WriteClosePeer(w, k), peer, cancellationToken);

    /// <summary>Writes raw bytes as they are (tests of malformed input).</summary>
    public ValueTask WriteRawAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken = default) =>
        WriteAsync(static (w, b) => w.Write(b.Span), bytes, cancellationToken);

    private async ValueTask WriteAsync<TState>(Action<PipeWriter, TState> write, TState state, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            write(_pipe.Output, state);
            var result = await _pipe.Output.FlushAsync(cancellationToken);
            if (result.IsCompleted) throw new IOException("DERP connection is closed.");
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// Receives the next frame. A RecvPacket's bytes are copied into <paramref name="packetBuffer"/> (it must hold up to
    /// 64 KiB to receive any packet). Server Pings are answered automatically and still returned.
    /// </summary>
    /// <exception cref="EndOfStreamException">The server closed the connection.</exception>
    public async ValueTask<DerpReceived> ReceiveAsync(Memory<byte> packetBuffer, CancellationToken cancellationToken = default)
    {
        var input = _pipe.Input;
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken);
            var buffer = result.Buffer;
            if (DerpFrameReader.TryReadFrame(ref buffer, DerpConstants.MaxClientFrameLength, out var type, out var payload))
            {
                DerpReceived received;
                try
                {
                    received = Parse(type, payload, packetBuffer.Span);
                }
                finally
                {
                    input.AdvanceTo(buffer.Start);
                }
                if (type == DerpFrameType.Ping)
                    await WriteAsync(static (w, d) => DerpFrameWriter.WritePingOrPong(w, DerpFrameType.Pong, d), received.Data, cancellationToken);
                return received;
            }
            if (result.IsCompleted || result.IsCanceled) throw new EndOfStreamException("The DERP server closed the connection.");
            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    private static DerpReceived Parse(DerpFrameType type, in ReadOnlySequence<byte> payload, Span<byte> packetBuffer)
    {
        switch (type)
        {
            case DerpFrameType.RecvPacket:
                if (payload.Length < DerpConstants.KeyLength) throw new DerpProtocolException("RecvPacket frame is shorter than a key.");
                var packet = payload.Slice(DerpConstants.KeyLength);
                if (packet.Length > packetBuffer.Length)
                    throw new ArgumentException($"Receive buffer of {packetBuffer.Length} bytes cannot hold a {packet.Length}-byte packet.");
                packet.CopyTo(packetBuffer);
                return new DerpReceived(type, DerpFrameReader.ReadKey(payload, 0), (int)packet.Length);
            case DerpFrameType.PeerGone:
                if (payload.Length < DerpConstants.KeyLength) throw new DerpProtocolException("PeerGone frame is shorter than a key.");
                var reason = payload.Length > DerpConstants.KeyLength ? (PeerGoneReason)payload.Slice(32, 1).FirstSpan[0] : PeerGoneReason.Disconnected;
                return new DerpReceived(type, DerpFrameReader.ReadKey(payload, 0), Reason: reason);
            case DerpFrameType.PeerPresent:
                return ParsePeerPresent(payload);
            case DerpFrameType.Ping or DerpFrameType.Pong:
                if (payload.Length < 8) throw new DerpProtocolException($"{type} frame is shorter than 8 bytes.");
                Span<byte> data = stackalloc byte[8];
                payload.Slice(0, 8).CopyTo(data);
                return new DerpReceived(type, Data: BinaryPrimitives.ReadUInt64BigEndian(data));
            case DerpFrameType.Health:
                return new DerpReceived(type, Text: Encoding.UTF8.GetString(payload));
            case DerpFrameType.Restarting:
                if (payload.Length < 8) throw new DerpProtocolException("Restarting frame is shorter than 8 bytes.");
                Span<byte> times = stackalloc byte[8];
                payload.Slice(0, 8).CopyTo(times);
                return new DerpReceived(type, Data: BinaryPrimitives.ReadUInt64BigEndian(times));
            default:
                return new DerpReceived(type, Length: (int)payload.Length);
        }
    }

    private static DerpReceived ParsePeerPresent(in ReadOnlySequence<byte> payload)
    {
        if (payload.Length < DerpConstants.KeyLength) throw new DerpProtocolException("PeerPresent frame is shorter than a key.");
        var key = DerpFrameReader.ReadKey(payload, 0);
        if (payload.Length < 50) return new DerpReceived(DerpFrameType.PeerPresent, key);
        Span<byte> rest = stackalloc byte[19];
        payload.Slice(32, Math.Min(19, payload.Length - 32)).CopyTo(rest);
        var address = new IPAddress(rest[..16]);
        if (address.IsIPv4MappedToIPv6) address = address.MapToIPv4();
        var port = BinaryPrimitives.ReadUInt16BigEndian(rest[16..]);
        var flags = payload.Length >= 51 ? (PeerPresentFlags)rest[18] : PeerPresentFlags.None;
        return new DerpReceived(DerpFrameType.PeerPresent, key, Flags: flags, Endpoint: new IPEndPoint(address, port));
    }

    public async ValueTask DisposeAsync()
    {
        await _pipe.Input.CompleteAsync();
        await _pipe.Output.CompleteAsync();
        await _stream.DisposeAsync();
        _writeLock.Dispose();
    }
}

/// <summary>
/// A duplex pipe over a stream (the upgraded HTTP connection, a WebSocket stream, a raw socket). Reads wait with a
/// zero-byte read before renting a buffer, so an idle connection holds no read buffer.
/// </summary>
public sealed class StreamDuplexPipe(Stream stream) : IDuplexPipe
{
    public PipeReader Input { get; } = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true, useZeroByteReads: true));
    public PipeWriter Output { get; } = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
}
