using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net;
using System.Text;
using Headscale.Protocol.Client;
using Headscale.Protocol.Http2;

namespace Headscale.Bench.Map;

/// <summary>Receives the body of a streaming response as it arrives, on the connection's read loop.</summary>
internal delegate void ResponseDataHandler(ReadOnlySequence<byte> data);

/// <summary>
/// A minimal HTTP/2 client on one ts2021 connection, for the map load generator: POSTs with small JSON bodies, one
/// read loop that parses frames straight from the plaintext stream and hands a streaming response's DATA to its
/// handler without copying. Windows are opened wide (16 MiB) and refilled every 8 MiB, so the server never waits
/// for the generator and the generator sends a WINDOW_UPDATE only rarely. No push, no priorities, no trailers beyond
/// decoding them.
/// </summary>
internal sealed class LeanMapConnection : IAsyncDisposable
{
    private const int ReceiveWindow = 16 * 1024 * 1024;
    private const int WindowUpdateThreshold = 8 * 1024 * 1024;
    private const int MaxReceiveFrameSize = 64 * 1024;
    private const int MaxErrorBodyBytes = 4096;

    private readonly Ts2021Connection _connection;
    private readonly Stream _stream;
    private readonly PipeReader _reader;
    private readonly string _authority;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly Lock _gate = new();
    private readonly Dictionary<int, Exchange> _exchanges = [];
    private readonly HpackDecoder _hpack = new();
    private readonly StatusCollector _status = new();
    private readonly ArrayBufferWriter<byte> _headerBlock = new(256);
    private TaskCompletionSource _windowChanged = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _readLoop = Task.CompletedTask;
    private int _nextStreamId = 1;
    private int _connectionSendWindow = Http2FrameHeader.DefaultWindowSize;
    private int _peerInitialWindow = Http2FrameHeader.DefaultWindowSize;
    private int _peerMaxFrameSize = Http2FrameHeader.DefaultMaxFrameSize;
    private int _connectionUnacked;
    private int _continuationStream;
    private bool _endStreamAfterBlock;
    private Exception? _fault;
    private int _disposed;

    private LeanMapConnection(Ts2021Connection connection, string authority)
    {
        _connection = connection;
        _stream = connection.Stream;
        _reader = PipeReader.Create(_stream, new StreamPipeReaderOptions(bufferSize: 16 * 1024, leaveOpen: true));
        _authority = authority;
    }

    /// <summary>Whether the connection has failed or been closed; new requests on it fail.</summary>
    public bool IsClosed
    {
        get
        {
            lock (_gate)
            {
                return _fault is not null || _disposed != 0;
            }
        }
    }

    /// <summary>Dials ts2021, sends the preface with our settings and starts the read loop.</summary>
    public static async Task<LeanMapConnection> ConnectAsync(Ts2021ClientOptions options, CancellationToken cancellationToken)
    {
        var ts2021 = await Ts2021Connection.ConnectAsync(options, cancellationToken);
        var connection = new LeanMapConnection(ts2021, options.Authority ?? options.ServerUrl.Authority);
        try
        {
            await connection.WritePrefaceAsync(cancellationToken);
        }
        catch
        {
            await ts2021.DisposeAsync();
            throw;
        }

        connection._readLoop = Task.Run(connection.ReadLoopAsync, CancellationToken.None);
        return connection;
    }

    /// <summary>
    /// POSTs <paramref name="json"/> to <paramref name="path"/> and waits for the whole response, which must be 200.
    /// A non-200 answer throws <see cref="HttpRequestException"/> with the status and the server's message.
    /// </summary>
    public Task PostAsync(string path, ReadOnlyMemory<byte> json, CancellationToken cancellationToken) =>
        SendAsync(new Exchange(null, null), path, json, cancellationToken);

    /// <summary>
    /// POSTs a request whose response is a long stream: returns once a 200 head has arrived; from then on the body goes
    /// to <paramref name="onData"/> and the end of the stream (END_STREAM, reset, GOAWAY, connection loss) to
    /// <paramref name="onEnd"/>, both on the read loop.
    /// </summary>
    public Task OpenStreamAsync(
        string path, ReadOnlyMemory<byte> json, ResponseDataHandler onData, Action<Exception> onEnd, CancellationToken cancellationToken) =>
        SendAsync(new Exchange(onData, onEnd), path, json, cancellationToken);

    private async Task SendAsync(Exchange exchange, string path, ReadOnlyMemory<byte> json, CancellationToken cancellationToken)
    {
        var head = EncodeRequestHead(path, json.Length);
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            lock (_gate)
            {
                if (_fault is not null)
                {
                    throw new IOException("the ts2021 connection is closed", _fault);
                }

                exchange.Id = _nextStreamId;
                exchange.SendWindow = _peerInitialWindow;
                _nextStreamId += 2;
                _exchanges.Add(exchange.Id, exchange);
            }

            var flags = Http2FrameFlags.EndHeaders | (json.IsEmpty ? Http2FrameFlags.EndStream : Http2FrameFlags.None);
            new Http2FrameHeader(head.Length - Http2FrameHeader.Size, Http2FrameType.Headers, flags, exchange.Id).Write(head);
            await _stream.WriteAsync(head, cancellationToken);
        }
        finally
        {
            _writeLock.Release();
        }

        await SendBodyAsync(exchange, json, cancellationToken);
        await exchange.Response.Task.WaitAsync(cancellationToken);
    }

    private byte[] EncodeRequestHead(string path, int contentLength)
    {
        Span<byte> block = stackalloc byte[512];
        var length = 0;
        Encode(":method", "POST", block, ref length);
        Encode(":scheme", "http", block, ref length);
        Encode(":path", path, block, ref length);
        Encode(":authority", _authority, block, ref length);
        Encode("content-type", "application/json", block, ref length);
        Encode("content-length", contentLength.ToString(System.Globalization.CultureInfo.InvariantCulture), block, ref length);
        var frame = new byte[Http2FrameHeader.Size + length];
        block[..length].CopyTo(frame.AsSpan(Http2FrameHeader.Size));
        return frame;

        static void Encode(string name, string value, Span<byte> block, ref int length)
        {
            if (!HpackEncoder.TryEncodeHeader(name, value, block[length..], out var written))
            {
                throw new InvalidOperationException($"request head too large at {name}");
            }

            length += written;
        }
    }

    /// <summary>DATA frames within the server's stream and connection windows and its largest frame size.</summary>
    private async Task SendBodyAsync(Exchange exchange, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        while (!body.IsEmpty)
        {
            int chunk;
            Task? wait = null;
            lock (_gate)
            {
                if (_fault is not null || exchange.Response.Task.IsCompleted)
                {
                    return; // the response (or the failure) says what happened
                }

                chunk = Math.Min(body.Length, Math.Min(_peerMaxFrameSize, Math.Min(_connectionSendWindow, exchange.SendWindow)));
                if (chunk > 0)
                {
                    _connectionSendWindow -= chunk;
                    exchange.SendWindow -= chunk;
                }
                else
                {
                    wait = _windowChanged.Task;
                }
            }

            if (wait is not null)
            {
                await wait.WaitAsync(cancellationToken);
                continue;
            }

            var flags = chunk == body.Length ? Http2FrameFlags.EndStream : Http2FrameFlags.None;
            var frame = new byte[Http2FrameHeader.Size + chunk];
            new Http2FrameHeader(chunk, Http2FrameType.Data, flags, exchange.Id).Write(frame);
            body.Span[..chunk].CopyTo(frame.AsSpan(Http2FrameHeader.Size));
            await WriteAsync(frame, cancellationToken);
            body = body[chunk..];
        }
    }

    private Task WritePrefaceAsync(CancellationToken cancellationToken)
    {
        var preface = Http2FrameHeader.ClientPreface;
        var frame = new byte[preface.Length + Http2FrameHeader.Size + 18 + Http2FrameHeader.Size + 4];
        preface.CopyTo(frame);
        var settings = frame.AsSpan(preface.Length);
        new Http2FrameHeader(18, Http2FrameType.Settings, Http2FrameFlags.None, 0).Write(settings);
        WriteSetting(settings[9..], Http2SettingId.EnablePush, 0);
        WriteSetting(settings[15..], Http2SettingId.InitialWindowSize, ReceiveWindow);
        WriteSetting(settings[21..], Http2SettingId.MaxFrameSize, MaxReceiveFrameSize);
        var update = settings[27..];
        new Http2FrameHeader(4, Http2FrameType.WindowUpdate, Http2FrameFlags.None, 0).Write(update);
        BinaryPrimitives.WriteUInt32BigEndian(update[9..], ReceiveWindow - Http2FrameHeader.DefaultWindowSize);
        return WriteAsync(frame, cancellationToken);

        static void WriteSetting(Span<byte> destination, Http2SettingId id, uint value)
        {
            BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)id);
            BinaryPrimitives.WriteUInt32BigEndian(destination[2..], value);
        }
    }

    private async Task WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken)
    {
        await _writeLock.WaitAsync(cancellationToken);
        try
        {
            await _stream.WriteAsync(bytes, cancellationToken);
        }
        finally
        {
            _writeLock.Release();
        }
    }

    private Task WriteWindowUpdateAsync(int streamId, int increment)
    {
        var frame = new byte[Http2FrameHeader.Size + 4];
        new Http2FrameHeader(4, Http2FrameType.WindowUpdate, Http2FrameFlags.None, streamId).Write(frame);
        BinaryPrimitives.WriteUInt32BigEndian(frame.AsSpan(Http2FrameHeader.Size), (uint)increment);
        return WriteAsync(frame, CancellationToken.None);
    }

    private async Task ReadLoopAsync()
    {
        try
        {
            while (true)
            {
                var result = await _reader.ReadAsync();
                if (result.IsCanceled)
                {
                    throw new IOException("the connection was closed by this side");
                }

                var buffer = result.Buffer;
                while (TryTakeFrame(ref buffer, out var header, out var payload))
                {
                    await OnFrameAsync(header, payload);
                }

                _reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    throw new IOException("the server closed the ts2021 connection");
                }
            }
        }
        catch (Exception e)
        {
            // Every failure ends every stream of this connection; the exchanges report it, nothing is thrown on the pool.
            Fail(e);
        }
    }

    private static bool TryTakeFrame(ref ReadOnlySequence<byte> buffer, out Http2FrameHeader header, out ReadOnlySequence<byte> payload)
    {
        header = default;
        payload = default;
        if (buffer.Length < Http2FrameHeader.Size)
        {
            return false;
        }

        Span<byte> head = stackalloc byte[Http2FrameHeader.Size];
        buffer.Slice(0, Http2FrameHeader.Size).CopyTo(head);
        header = Http2FrameHeader.Read(head);
        if (header.Length > MaxReceiveFrameSize)
        {
            throw new InvalidDataException($"{header.Type} frame of {header.Length} bytes exceeds our SETTINGS_MAX_FRAME_SIZE");
        }

        if (buffer.Length < Http2FrameHeader.Size + header.Length)
        {
            return false;
        }

        payload = buffer.Slice(Http2FrameHeader.Size, header.Length);
        buffer = buffer.Slice(Http2FrameHeader.Size + header.Length);
        return true;
    }

    private ValueTask OnFrameAsync(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (_continuationStream != 0 && (header.Type != Http2FrameType.Continuation || header.StreamId != _continuationStream))
        {
            throw new InvalidDataException($"{header.Type} frame in the middle of a header block");
        }

        switch (header.Type)
        {
            case Http2FrameType.Data:
                return OnDataAsync(header, payload);
            case Http2FrameType.Headers:
                OnHeaders(header, payload);
                return ValueTask.CompletedTask;
            case Http2FrameType.Continuation:
                if (_continuationStream == 0)
                {
                    throw new InvalidDataException("CONTINUATION without HEADERS");
                }

                AppendHeaderBlock(header, payload);
                return ValueTask.CompletedTask;
            case Http2FrameType.RstStream:
                OnReset(header, payload);
                return ValueTask.CompletedTask;
            case Http2FrameType.Settings:
                return OnSettingsAsync(header, payload);
            case Http2FrameType.Ping when !header.HasFlag(Http2FrameFlags.Ack):
                var pong = new byte[Http2FrameHeader.Size + 8];
                new Http2FrameHeader(8, Http2FrameType.Ping, Http2FrameFlags.Ack, 0).Write(pong);
                payload.CopyTo(pong.AsSpan(Http2FrameHeader.Size));
                return new ValueTask(WriteAsync(pong, CancellationToken.None));
            case Http2FrameType.GoAway:
                var code = payload.Length >= 8 ? (Http2ErrorCode)BinaryPrimitives.ReadUInt32BigEndian(payload.Slice(4, 4).ToArray()) : 0;
                throw new IOException($"the server sent GOAWAY ({code})");
            case Http2FrameType.WindowUpdate:
                OnWindowUpdate(header, payload);
                return ValueTask.CompletedTask;
            case Http2FrameType.PushPromise:
                throw new InvalidDataException("PUSH_PROMISE although push is disabled");
            default:
                return ValueTask.CompletedTask; // PRIORITY, PING acks and unknown types need nothing
        }
    }

    private async ValueTask OnDataAsync(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        var exchange = Find(header.StreamId);
        if (exchange is not null)
        {
            var data = Unpad(header, payload);
            if (exchange.Status == 200 && exchange.OnData is { } onData)
            {
                onData(data);
            }
            else if (exchange.Status != 200)
            {
                exchange.AppendErrorBody(data);
            }

            if (header.HasFlag(Http2FrameFlags.EndStream))
            {
                OnEndStream(exchange);
            }
            else if ((exchange.Unacked += header.Length) >= WindowUpdateThreshold)
            {
                await WriteWindowUpdateAsync(exchange.Id, exchange.Unacked);
                exchange.Unacked = 0;
            }
        }

        // The connection window counts every DATA frame, also of streams already forgotten.
        if ((_connectionUnacked += header.Length) >= WindowUpdateThreshold)
        {
            await WriteWindowUpdateAsync(0, _connectionUnacked);
            _connectionUnacked = 0;
        }
    }

    private void OnHeaders(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        var fragment = Unpad(header, payload);
        if (header.HasFlag(Http2FrameFlags.Priority))
        {
            fragment = fragment.Slice(5);
        }

        _headerBlock.ResetWrittenCount();
        _continuationStream = header.StreamId;
        _endStreamAfterBlock = header.HasFlag(Http2FrameFlags.EndStream);
        AppendHeaderBlock(header, fragment);
    }

    private void AppendHeaderBlock(Http2FrameHeader header, ReadOnlySequence<byte> fragment)
    {
        if (_headerBlock.WrittenCount + fragment.Length > 64 * 1024)
        {
            throw new InvalidDataException("response header block larger than 64 KiB");
        }

        fragment.CopyTo(_headerBlock.GetSpan((int)fragment.Length));
        _headerBlock.Advance((int)fragment.Length);
        if (!header.HasFlag(Http2FrameFlags.EndHeaders))
        {
            return;
        }

        _continuationStream = 0;
        _status.Status = 0;
        _hpack.Decode(_headerBlock.WrittenSpan, _status); // every block, so the dynamic table stays in step
        var exchange = Find(header.StreamId);
        if (exchange is null)
        {
            return;
        }

        if (exchange.Status == 0 && _status.Status is >= 200)
        {
            // The response head (1xx heads are skipped); a later block is trailers and only ends the stream.
            exchange.Status = _status.Status;
            if (exchange.Status == 200 && exchange.OnData is not null)
            {
                exchange.Response.TrySetResult();
            }
        }

        if (_endStreamAfterBlock)
        {
            OnEndStream(exchange);
        }
    }

    private void OnEndStream(Exchange exchange)
    {
        Forget(exchange.Id);
        if (exchange.Status != 200)
        {
            var message = exchange.ErrorBody is { } body ? Encoding.UTF8.GetString(body.WrittenSpan).Trim() : "";
            exchange.Fail(new HttpRequestException($"answered {exchange.Status}: {message}", null, (HttpStatusCode)exchange.Status));
        }
        else if (exchange.OnData is null)
        {
            exchange.Response.TrySetResult();
        }
        else
        {
            exchange.Fail(new EndOfStreamException("the server ended the stream"));
        }
    }

    private void OnReset(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        var exchange = Find(header.StreamId);
        if (exchange is not null && payload.Length == 4)
        {
            Forget(exchange.Id);
            var code = (Http2ErrorCode)BinaryPrimitives.ReadUInt32BigEndian(payload.ToArray());
            exchange.Fail(new IOException($"the server reset the stream ({code})"));
        }
    }

    private async ValueTask OnSettingsAsync(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (header.HasFlag(Http2FrameFlags.Ack))
        {
            return;
        }

        if (payload.Length % 6 != 0)
        {
            throw new InvalidDataException($"SETTINGS of {payload.Length} bytes");
        }

        var settings = payload.ToArray();
        lock (_gate)
        {
            for (var i = 0; i < settings.Length; i += 6)
            {
                var id = (Http2SettingId)BinaryPrimitives.ReadUInt16BigEndian(settings.AsSpan(i));
                var value = BinaryPrimitives.ReadUInt32BigEndian(settings.AsSpan(i + 2));
                if (id == Http2SettingId.InitialWindowSize && value <= Http2FrameHeader.MaxWindowSize)
                {
                    var delta = (int)value - _peerInitialWindow;
                    _peerInitialWindow = (int)value;
                    foreach (var exchange in _exchanges.Values)
                    {
                        exchange.SendWindow += delta;
                    }
                }
                else if (id == Http2SettingId.MaxFrameSize && value is >= Http2FrameHeader.DefaultMaxFrameSize and <= Http2FrameHeader.MaxAllowedFrameSize)
                {
                    _peerMaxFrameSize = (int)value;
                }
            }

            SignalWindow();
        }

        var ack = new byte[Http2FrameHeader.Size];
        new Http2FrameHeader(0, Http2FrameType.Settings, Http2FrameFlags.Ack, 0).Write(ack);
        await WriteAsync(ack, CancellationToken.None);
    }

    private void OnWindowUpdate(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (payload.Length != 4)
        {
            throw new InvalidDataException($"WINDOW_UPDATE of {payload.Length} bytes");
        }

        var increment = (int)(BinaryPrimitives.ReadUInt32BigEndian(payload.ToArray()) & 0x7fff_ffff);
        lock (_gate)
        {
            if (header.StreamId == 0)
            {
                _connectionSendWindow += increment;
            }
            else if (_exchanges.TryGetValue(header.StreamId, out var exchange))
            {
                exchange.SendWindow += increment;
            }

            SignalWindow();
        }
    }

    /// <summary>Wakes the senders waiting for window; called under <see cref="_gate"/>.</summary>
    private void SignalWindow()
    {
        var changed = _windowChanged;
        _windowChanged = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        changed.TrySetResult();
    }

    private static ReadOnlySequence<byte> Unpad(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (!header.HasFlag(Http2FrameFlags.Padded))
        {
            return payload;
        }

        var padding = payload.Length > 0 ? payload.FirstSpan[0] : -1;
        if (padding < 0 || padding >= payload.Length)
        {
            throw new InvalidDataException($"{header.Type} frame with more padding than payload");
        }

        return payload.Slice(1, payload.Length - 1 - padding);
    }

    private Exchange? Find(int streamId)
    {
        lock (_gate)
        {
            return _exchanges.GetValueOrDefault(streamId);
        }
    }

    private void Forget(int streamId)
    {
        lock (_gate)
        {
            _exchanges.Remove(streamId);
        }
    }

    private void Fail(Exception e)
    {
        Exchange[] open;
        lock (_gate)
        {
            _fault ??= e;
            open = [.. _exchanges.Values];
            _exchanges.Clear();
            SignalWindow();
        }

        foreach (var exchange in open)
        {
            exchange.Fail(e);
        }
    }

    /// <summary>Closes the connection at once; open streams end with an error (their handlers see it).</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _reader.CancelPendingRead();
        await _connection.DisposeAsync();
        await _readLoop;
        await _reader.CompleteAsync();
    }

    private sealed class StatusCollector : IHpackHeaderHandler
    {
        public int Status;

        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
        {
            if (name.SequenceEqual(":status"u8) && value.Length == 3 && int.TryParse(value, out var status))
            {
                Status = status;
            }
        }
    }

    /// <summary>One request and its response; everything but the windows is touched only by the read loop.</summary>
    private sealed class Exchange(ResponseDataHandler? onData, Action<Exception>? onEnd)
    {
        public readonly TaskCompletionSource Response = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly ResponseDataHandler? OnData = onData;
        public int Id;
        public int SendWindow;
        public int Unacked;
        public int Status;
        public ArrayBufferWriter<byte>? ErrorBody;

        public void AppendErrorBody(ReadOnlySequence<byte> data)
        {
            ErrorBody ??= new ArrayBufferWriter<byte>();
            var take = (int)Math.Min(data.Length, MaxErrorBodyBytes - ErrorBody.WrittenCount);
            data.Slice(0, take).CopyTo(ErrorBody.GetSpan(take));
            ErrorBody.Advance(take);
        }

        /// <summary>Fails the request if it is still waiting for its answer, else ends the stream it opened.</summary>
        public void Fail(Exception e)
        {
            if (!Response.TrySetException(e))
            {
                onEnd?.Invoke(e);
            }
        }
    }
}
