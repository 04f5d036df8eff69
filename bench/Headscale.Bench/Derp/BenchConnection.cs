using System.Buffers;
using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Headscale.Derp.Keys;
using Headscale.Derp.Protocol;

namespace Headscale.Bench.Derp;

/// <summary>
/// A bare client socket for the load generator: the same send and receive loops run over a DERP connection (after an
/// HTTP upgrade and the handshake) and over the raw forwarder, so only the server side differs between the two runs.
/// </summary>
internal sealed class BenchConnection : IAsyncDisposable
{
    private BenchConnection(Socket socket, DerpPublicKey key)
    {
        Socket = socket;
        Stream = new NetworkStream(socket, ownsSocket: true);
        Key = key;
    }

    public Socket Socket { get; }
    public NetworkStream Stream { get; }
    public DerpPublicKey Key { get; }

    /// <summary>Upgrades <c>/derp</c> and completes the DERP handshake; nothing is read past ServerInfo.</summary>
    public static async Task<BenchConnection> ConnectDerpAsync(IPEndPoint server, CancellationToken cancellationToken)
    {
        var key = DerpPrivateKey.Generate();
        var socket = await ConnectSocketAsync(server, cancellationToken);
        var connection = new BenchConnection(socket, key.PublicKey);
        var stream = connection.Stream;
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            $"GET /derp HTTP/1.1\r\nHost: {server}\r\nUpgrade: DERP\r\nConnection: Upgrade\r\n\r\n"), cancellationToken);
        await ReadHttpHeadAsync(stream, cancellationToken);

        var (type, payload) = await ReadFrameAsync(stream, cancellationToken);
        if (type != DerpFrameType.ServerKey) throw new InvalidOperationException($"expected ServerKey, got {type}");
        var serverKey = DerpPublicKey.Read(payload.AsSpan(DerpConstants.Magic.Length));
        var writer = new ArrayBufferWriter<byte>(256);
        DerpHandshake.WriteClientInfo(writer, key, serverKey, new DerpClientInfo { Version = DerpConstants.ProtocolVersion, CanAckPings = true });
        await stream.WriteAsync(writer.WrittenMemory, cancellationToken);
        (type, _) = await ReadFrameAsync(stream, cancellationToken);
        if (type != DerpFrameType.ServerInfo) throw new InvalidOperationException($"expected ServerInfo, got {type}");
        return connection;
    }

    /// <summary>Connects to the raw forwarder and says which pair and side this socket is.</summary>
    public static async Task<BenchConnection> ConnectForwarderAsync(IPEndPoint forwarder, int pair, bool receiver, CancellationToken cancellationToken)
    {
        var socket = await ConnectSocketAsync(forwarder, cancellationToken);
        var connection = new BenchConnection(socket, DerpPrivateKey.Generate().PublicKey);
        var hello = new byte[5];
        BinaryPrimitives.WriteInt32BigEndian(hello, pair);
        hello[4] = receiver ? (byte)1 : (byte)0;
        await connection.Stream.WriteAsync(hello, cancellationToken);
        return connection;
    }

    private static async Task<Socket> ConnectSocketAsync(IPEndPoint server, CancellationToken cancellationToken)
    {
        var socket = new Socket(server.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(server, cancellationToken);
        return socket;
    }

    private static async Task ReadHttpHeadAsync(Stream stream, CancellationToken cancellationToken)
    {
        var head = new StringBuilder();
        var one = new byte[1];
        while (!head.ToString().EndsWith("\r\n\r\n", StringComparison.Ordinal))
        {
            if (await stream.ReadAsync(one, cancellationToken) == 0) throw new EndOfStreamException("closed during the upgrade");
            head.Append((char)one[0]);
        }
        if (!head.ToString().StartsWith("HTTP/1.1 101", StringComparison.Ordinal))
            throw new InvalidOperationException("upgrade refused: " + head.ToString().Split('\r')[0]);
    }

    private static async Task<(DerpFrameType Type, byte[] Payload)> ReadFrameAsync(Stream stream, CancellationToken cancellationToken)
    {
        var header = new byte[DerpConstants.FrameHeaderLength];
        await stream.ReadExactlyAsync(header, cancellationToken);
        var payload = new byte[BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1))];
        await stream.ReadExactlyAsync(payload, cancellationToken);
        return ((DerpFrameType)header[0], payload);
    }

    public async ValueTask DisposeAsync()
    {
        await Stream.DisposeAsync();
        Socket.Dispose();
    }
}

/// <summary>
/// The baseline: a minimal pass-through TCP forwarder with no DERP logic. Each sender socket is paired with its receiver
/// socket by a 5-byte hello (pair id, side) and its bytes are copied unchanged, so the receiver sees the same frame sizes.
/// </summary>
internal sealed class RawTcpForwarder : IAsyncDisposable
{
    private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private readonly Dictionary<int, TaskCompletionSource<Socket>> _receivers = [];
    private readonly List<Task> _copies = [];
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accept;

    public RawTcpForwarder()
    {
        _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        _listener.Listen(512);
        EndPoint = (IPEndPoint)_listener.LocalEndPoint!;
        _accept = AcceptLoopAsync();
    }

    public IPEndPoint EndPoint { get; }

    private TaskCompletionSource<Socket> ReceiverSlot(int pair)
    {
        lock (_receivers)
        {
            if (!_receivers.TryGetValue(pair, out var slot))
                _receivers[pair] = slot = new TaskCompletionSource<Socket>(TaskCreationOptions.RunContinuationsAsynchronously);
            return slot;
        }
    }

    private async Task AcceptLoopAsync()
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptAsync(_stop.Token);
                socket.NoDelay = true;
                var task = PairAsync(socket);
                lock (_copies) _copies.Add(task);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private async Task PairAsync(Socket socket)
    {
        var hello = new byte[5];
        await socket.ReceiveAsync(hello.AsMemory(), SocketFlags.None, _stop.Token);
        var pair = BinaryPrimitives.ReadInt32BigEndian(hello);
        if (hello[4] == 1)
        {
            ReceiverSlot(pair).TrySetResult(socket);
            return;
        }
        var receiver = await ReceiverSlot(pair).Task;
        var buffer = new byte[64 << 10];
        try
        {
            while (true)
            {
                var read = await socket.ReceiveAsync(buffer.AsMemory(), SocketFlags.None, _stop.Token);
                if (read == 0) break;
                await receiver.SendAsync(buffer.AsMemory(0, read), SocketFlags.None, _stop.Token);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            socket.Dispose();
            receiver.Dispose();
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Dispose();
        await _accept;
        Task[] copies;
        lock (_copies) copies = [.. _copies];
        await Task.WhenAll(copies);
        lock (_receivers)
            foreach (var slot in _receivers.Values)
                if (slot.Task.IsCompletedSuccessfully) slot.Task.Result.Dispose();
        _stop.Dispose();
    }
}
