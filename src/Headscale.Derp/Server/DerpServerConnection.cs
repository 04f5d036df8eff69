using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net;
using Headscale.Derp.Keys;
using Headscale.Derp.Protocol;

namespace Headscale.Derp.Server;

/// <summary>
/// One client connection: handshake, then a reader loop that parses frames and routes packets synchronously (no await per
/// frame), and a writer loop that drains the bounded <see cref="SendQueue"/> and flushes once per batch.
/// </summary>
internal sealed class DerpServerConnection
{
    private const int WriteBatchBytes = 64 << 10;
    private readonly DerpServer _server;
    private readonly IDuplexPipe _transport;
    private readonly Action? _abortTransport;
    private SendQueue _queue = null!;
    private long _flushStartedAt;         // 0 when no flush is in progress
    private long _nextKeepAliveAt;
    private double _peerGoneTokens = 3;   // NotHere replies: 1 per second, burst 3
    private long _peerGoneRefilledAt = Environment.TickCount64;
    private volatile string? _abortReason;
    private volatile bool _ended;

    public DerpServerConnection(DerpServer server, IDuplexPipe transport, IPEndPoint? remoteEndPoint, Action? abort)
    {
        _server = server;
        _transport = transport;
        _abortTransport = abort;
        RemoteEndPoint = remoteEndPoint;
    }

    public DerpPublicKey Key { get; private set; }
    public IPEndPoint? RemoteEndPoint { get; }
    public bool IsMeshPeer { get; private set; }
    public bool IsProber { get; private set; }
    public bool IsPreferred { get; private set; }
    public ClientSet? Set { get; set; }

    public PeerPresentFlags PresenceFlags =>
        IsMeshPeer ? PeerPresentFlags.MeshPeer : IsProber ? PeerPresentFlags.Prober : PeerPresentFlags.Regular;

    private string? Remote => RemoteEndPoint?.ToString();

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var registered = false;
        Task writer = Task.CompletedTask;
        await using var cancelRegistration = cancellationToken.UnsafeRegister(static s => ((DerpServerConnection)s!).Abort("host stopping"), this);
        try
        {
            if (!await HandshakeAsync(cancellationToken)) return;
            _server.Register(this);
            registered = true;
            DerpLog.ClientConnected(_server.Logger, Key.ToShortString(), Remote, IsMeshPeer);
            _nextKeepAliveAt = Environment.TickCount64 + KeepAliveDelayMs();
            writer = WriteLoopAsync();
            await ReadLoopAsync();
        }
        catch (DerpProtocolException e)
        {
            DerpMetrics.ProtocolErrors.Add(1);
            DerpLog.ProtocolError(_server.Logger, Remote, e.Message);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException
                                      or System.Net.WebSockets.WebSocketException)
        {
            DerpLog.ConnectionEnded(_server.Logger, Remote, _abortReason ?? e.Message);
        }
        finally
        {
            _ended = true;
            if (registered)
            {
                _server.Unregister(this);
                DerpLog.ClientDisconnected(_server.Logger, Key.ToShortString());
            }
            var discarded = _queue?.Close() ?? 0;
            if (discarded > 0) DerpMetrics.PacketsDropped.Add(discarded, DerpMetrics.DropReason.ClientGone);
            _transport.Input.CancelPendingRead();
            _transport.Output.CancelPendingFlush();
            await writer;
            await _transport.Input.CompleteAsync();
            await _transport.Output.CompleteAsync();
        }
    }

    private async Task<bool> HandshakeAsync(CancellationToken cancellationToken)
    {
        DerpFrameWriter.WriteServerKey(_transport.Output, _server.PublicKey);
        await _transport.Output.FlushAsync(cancellationToken);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_server.Options.HandshakeTimeout);
        DerpPublicKey clientKey;
        DerpClientInfo info;
        var input = _transport.Input;
        while (true)
        {
            ReadResult result;
            try
            {
                result = await input.ReadAsync(timeout.Token);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                DerpMetrics.Rejected.Add(1, DerpMetrics.RejectReason.Timeout);
                throw new DerpProtocolException("no ClientInfo frame within the handshake timeout");
            }
            var buffer = result.Buffer;
            if (DerpFrameReader.TryReadFrame(ref buffer, DerpConstants.MaxClientInfoLength, out var type, out var payload))
            {
                if (type != DerpFrameType.ClientInfo)
                {
                    DerpMetrics.Rejected.Add(1, DerpMetrics.RejectReason.Protocol);
                    throw new DerpProtocolException($"expected a ClientInfo frame first, got frame type 0x{(byte)type:x2}");
                }
                try
                {
                    (clientKey, info) = DerpHandshake.ReadClientInfo(payload, _server.PrivateKey);
                }
                catch (DerpProtocolException)
                {
                    DerpMetrics.Rejected.Add(1, DerpMetrics.RejectReason.Protocol);
                    throw;
                }
                input.AdvanceTo(buffer.Start);
                break;
            }
            if (result.IsCompleted || result.IsCanceled)
                throw new IOException("connection closed before ClientInfo");
            input.AdvanceTo(buffer.Start, buffer.End);
        }

        Key = clientKey;
        IsProber = info.IsProber;
        IsMeshPeer = _server.IsMeshKey(info.MeshKey);
        if (!IsMeshPeer && !await _server.IsAllowedAsync(clientKey, RemoteEndPoint?.Address, timeout.Token))
        {
            DerpMetrics.Rejected.Add(1, DerpMetrics.RejectReason.NotAllowed);
            DerpLog.ClientNotAllowed(_server.Logger, clientKey.ToShortString(), Remote);
            return false;
        }

        var options = _server.Options;
        _queue = new SendQueue(options.PerClientSendQueueDepth,
            IsMeshPeer ? options.MeshControlQueueDepth : options.PerClientControlQueueDepth);
        DerpHandshake.WriteServerInfo(_transport.Output, _server.PrivateKey, clientKey,
            new DerpServerInfo { Version = DerpConstants.ProtocolVersion });
        await _transport.Output.FlushAsync(cancellationToken);
        return true;
    }

    private async Task ReadLoopAsync()
    {
        var input = _transport.Input;
        while (true)
        {
            var result = await input.ReadAsync();
            var buffer = result.Buffer;
            try
            {
                while (DerpFrameReader.TryReadFrame(ref buffer, DerpConstants.MaxSteadyStateFrameLength, out var type, out var payload))
                    HandleFrame(type, payload);
                if (result.IsCompleted || result.IsCanceled || _queue.IsClosed) return;
            }
            finally
            {
                input.AdvanceTo(buffer.Start, buffer.End);
            }
        }
    }

    private void HandleFrame(DerpFrameType type, in ReadOnlySequence<byte> payload)
    {
        var set = Set!;
        if (set.HasDuplicates) set.NoteFrameFrom(this);
        switch (type)
        {
            case DerpFrameType.SendPacket:
                if (payload.Length < DerpConstants.KeyLength)
                    throw new DerpProtocolException($"SendPacket frame of {payload.Length} bytes is shorter than a key");
                if (payload.Length - DerpConstants.KeyLength > DerpConstants.MaxPacketSize)
                    throw new DerpProtocolException($"SendPacket carries {payload.Length - DerpConstants.KeyLength} bytes; the limit is {DerpConstants.MaxPacketSize}");
                _server.Route(this, DerpFrameReader.ReadKey(payload, 0), payload.Slice(DerpConstants.KeyLength));
                break;
            case DerpFrameType.ForwardPacket:
                RequireMeshPeer(type);
                if (payload.Length < 2 * DerpConstants.KeyLength)
                    throw new DerpProtocolException($"ForwardPacket frame of {payload.Length} bytes is shorter than two keys");
                if (payload.Length - 2 * DerpConstants.KeyLength > DerpConstants.MaxPacketSize)
                    throw new DerpProtocolException("ForwardPacket carries more than the maximum packet size");
                _server.DeliverForwarded(this, DerpFrameReader.ReadKey(payload, 0), DerpFrameReader.ReadKey(payload, DerpConstants.KeyLength),
                    payload.Slice(2 * DerpConstants.KeyLength));
                break;
            case DerpFrameType.NotePreferred:
                if (payload.Length != 1)
                    throw new DerpProtocolException($"NotePreferred frame must be 1 byte, got {payload.Length}");
                IsPreferred = payload.FirstSpan[0] != 0;
                break;
            case DerpFrameType.Ping:
                if (payload.Length is < 8 or > 1000)
                    throw new DerpProtocolException($"Ping frame must be 8 to 1000 bytes, got {payload.Length}");
                Span<byte> data = stackalloc byte[8];
                payload.Slice(0, 8).CopyTo(data);
                EnqueueControl(new ControlFrame(ControlKind.Pong, Data: BinaryPrimitives.ReadUInt64BigEndian(data)));
                break;
            case DerpFrameType.WatchConns:
                RequireMeshPeer(type);
                _server.AddWatcher(this);
                break;
            case DerpFrameType.ClosePeer:
                RequireMeshPeer(type);
                if (payload.Length != DerpConstants.KeyLength)
                    throw new DerpProtocolException($"ClosePeer frame must be 32 bytes, got {payload.Length}");
                _server.CloseClient(DerpFrameReader.ReadKey(payload, 0));
                break;
            default:
                // Pong, KeepAlive and unknown types are ignored, as every DERP implementation does for forward compatibility.
                break;
        }
    }

    private void RequireMeshPeer(DerpFrameType type)
    {
        if (!IsMeshPeer)
            throw new DerpProtocolException($"insufficient permissions: frame type 0x{(byte)type:x2} needs the mesh key");
    }

    public void EnqueuePacket(in DerpPublicKey source, in DerpPublicKey destination, in ReadOnlySequence<byte> payload)
    {
        var packet = QueuedPacket.Rent(source, destination, payload);
        var disco = packet.Length >= DerpConstants.MinDiscoPacketLength && DerpConstants.IsDiscoPacket(packet.Buffer.AsSpan(0, packet.Length));
        if (!_queue.TryEnqueuePacket(packet, disco, out var droppedOldest))
        {
            packet.Return();
            DerpMetrics.PacketsDropped.Add(1, DerpMetrics.DropReason.ClientGone);
            return;
        }
        if (droppedOldest)
            DerpMetrics.PacketsDropped.Add(1, disco ? DerpMetrics.DropReason.DiscoQueueFull : DerpMetrics.DropReason.QueueFull);
    }

    public void EnqueueControl(in ControlFrame frame)
    {
        if (_queue is null || _queue.IsClosed) return;
        if (!_queue.TryEnqueueControl(frame))
            DerpMetrics.PacketsDropped.Add(1, DerpMetrics.DropReason.ControlQueueFull);
    }

    public bool TryTakePeerGoneToken()
    {
        var now = Environment.TickCount64;
        _peerGoneTokens = Math.Min(3, _peerGoneTokens + (now - _peerGoneRefilledAt) / 1000.0);
        _peerGoneRefilledAt = now;
        if (_peerGoneTokens < 1) return false;
        _peerGoneTokens -= 1;
        return true;
    }

    private async Task WriteLoopAsync()
    {
        var output = _transport.Output;
        try
        {
            while (!_queue.IsClosed)
            {
                await _queue.WaitAsync();
                var pending = 0L;
                long packets = 0, bytes = 0;
                while (_queue.TryDequeue(out var control, out var packet, out var isPacket))
                {
                    if (isPacket)
                    {
                        DerpFrameWriter.WriteKeyAndPacket(output, DerpFrameType.RecvPacket, packet.Source, packet.Buffer.AsSpan(0, packet.Length));
                        pending += DerpConstants.FrameHeaderLength + DerpConstants.KeyLength + packet.Length;
                        packets++;
                        bytes += packet.Length;
                        packet.Return();
                    }
                    else
                    {
                        WriteControl(output, control);
                        pending += 64;
                    }
                    if (pending >= WriteBatchBytes)
                    {
                        if (!await FlushAsync(output)) return;
                        pending = 0;
                    }
                }
                if (pending > 0 && !await FlushAsync(output)) return;
                if (packets > 0)
                {
                    DerpMetrics.PacketsSent.Add(packets);
                    DerpMetrics.BytesSent.Add(bytes);
                }
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException or InvalidOperationException
                                      or System.Net.WebSockets.WebSocketException)
        {
            Abort("write failed: " + e.Message);
        }
    }

    private async ValueTask<bool> FlushAsync(PipeWriter output)
    {
        Volatile.Write(ref _flushStartedAt, Environment.TickCount64);
        var result = await output.FlushAsync();
        Volatile.Write(ref _flushStartedAt, 0);
        return !result.IsCanceled && !result.IsCompleted;
    }

    private static void WriteControl(PipeWriter output, in ControlFrame control)
    {
        switch (control.Kind)
        {
            case ControlKind.KeepAlive: DerpFrameWriter.WriteEmpty(output, DerpFrameType.KeepAlive); break;
            case ControlKind.Pong: DerpFrameWriter.WritePingOrPong(output, DerpFrameType.Pong, control.Data); break;
            case ControlKind.Ping: DerpFrameWriter.WritePingOrPong(output, DerpFrameType.Ping, control.Data); break;
            case ControlKind.PeerGone: DerpFrameWriter.WritePeerGone(output, control.Key, (PeerGoneReason)control.Flags); break;
            case ControlKind.PeerPresent:
                DerpFrameWriter.WritePeerPresent(output, control.Key, control.Endpoint?.Address, (ushort)(control.Endpoint?.Port ?? 0),
                    (PeerPresentFlags)control.Flags);
                break;
            case ControlKind.Health:
                DerpFrameWriter.WriteFrame(output, DerpFrameType.Health, System.Text.Encoding.UTF8.GetBytes(control.Text ?? ""));
                break;
            case ControlKind.Restarting:
                DerpFrameWriter.WriteRestarting(output, (uint)(control.Data >> 32), (uint)control.Data);
                break;
        }
    }

    /// <summary>Called for every connection by the server's housekeeping timer: keep-alives and stalled-write detection.</summary>
    public void Housekeep(long now)
    {
        var flushStarted = Volatile.Read(ref _flushStartedAt);
        var timeout = IsMeshPeer ? _server.Options.MeshWriteTimeout : _server.Options.WriteTimeout;
        if (flushStarted != 0 && now - flushStarted > timeout.TotalMilliseconds)
        {
            DerpMetrics.PacketsDropped.Add(1, DerpMetrics.DropReason.WriteTimeout);
            DerpLog.WriteTimeout(_server.Logger, Key.ToShortString(), timeout);
            Abort("write timeout");
            return;
        }
        if (now >= _nextKeepAliveAt)
        {
            _nextKeepAliveAt = now + KeepAliveDelayMs();
            EnqueueControl(new ControlFrame(ControlKind.KeepAlive));
        }
    }

    private long KeepAliveDelayMs() =>
        (long)_server.Options.KeepAliveInterval.TotalMilliseconds + Random.Shared.Next(0, 5000);

    /// <summary>Closes this connection from outside its loops (revocation, ClosePeer, write timeout, shutdown).</summary>
    public void Abort(string reason)
    {
        _abortReason ??= reason;
        // Callers hold snapshots (housekeeping timer, revocation, ClosePeer): the connection may have ended meanwhile,
        // and then its transport (e.g. the HttpContext) is gone.
        if (_ended) return;
        _queue?.Close();
        _transport.Input.CancelPendingRead();
        _transport.Output.CancelPendingFlush();
        try
        {
            _abortTransport?.Invoke();
        }
        catch (ObjectDisposedException)
        {
            // Ended between the check and the abort: nothing left to close.
        }
    }
}
