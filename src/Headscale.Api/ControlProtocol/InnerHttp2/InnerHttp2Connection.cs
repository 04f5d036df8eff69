using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using System.Net;
using Headscale.Api.ControlPlane;
using Headscale.Protocol.Http2;
using Microsoft.Extensions.Logging;

namespace Headscale.Api.ControlProtocol.InnerHttp2;

/// <summary>Limits of one inner HTTP/2 connection.</summary>
internal sealed record InnerHttp2Limits(int MaxConcurrentStreams, long MaxRequestBodySize, int MaxHeaderListSize = 64 * 1024)
{
    /// <summary>Largest header block (HEADERS plus CONTINUATION payloads) buffered before decoding.</summary>
    public int MaxHeaderBlockSize => MaxHeaderListSize;

    /// <summary>
    /// Request bytes the connection may hold at once: its receive window. Bodies are buffered whole before the request
    /// runs and the window is given back as each body is read, so this bounds what a client can make the server hold.
    /// </summary>
    public int ConnectionReceiveWindow => (int)Math.Min(int.MaxValue, Math.Max(Http2FrameHeader.DefaultWindowSize, (2 * MaxRequestBodySize) + 65_536));

    /// <summary>Each stream may send its whole body limit plus one byte (so an oversized body is seen, not stalled).</summary>
    public int StreamReceiveWindow => (int)Math.Min(int.MaxValue, Math.Max(Http2FrameHeader.DefaultWindowSize, MaxRequestBodySize + 1));
}

/// <summary>
/// The server side of the cleartext HTTP/2 carried inside one ts2021 connection (RFC 9113, the parts a Tailscale client
/// uses): it reads frames from the Noise plaintext, buffers each request's body, runs the request through the host's
/// pipeline (<see cref="InnerApplication"/>) and writes responses as HEADERS and DATA frames straight into the Noise
/// plaintext writer. It keeps no buffers while idle: a long-poll map stream costs its stream object and HTTP context.
/// </summary>
internal sealed partial class InnerHttp2Connection
{
    private static long _nextId;

    private readonly PipeReader _input;
    private readonly PipeWriter _output;
    private readonly InnerApplication _application;
    private readonly ILogger _logger;
    private readonly HpackDecoder _hpack;
    private readonly RequestHeadCollector _head = new();
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private readonly object _state = new();
    private readonly Dictionary<int, InnerHttp2Stream> _streams = [];
    private readonly List<InnerHttp2Stream> _windowWaiters = [];
    private readonly TaskCompletionSource _allStreamsDone = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private readonly int[] _recentlyReset = new int[16];
    private int _recentlyResetNext;
    private int _lastStreamId;
    private long _sendWindow = Http2FrameHeader.DefaultWindowSize;
    private long _receiveWindow;
    private int _peerInitialWindow = Http2FrameHeader.DefaultWindowSize;
    private int _peerMaxFrameSize = Http2FrameHeader.DefaultMaxFrameSize;
    private byte[]? _headerBlock;
    private int _headerBlockLength;
    private int _continuationStreamId;
    private bool _continuationEndsStream;
    private bool _goingAway;
    private bool _closed;
    private bool _outputClosed;

    public InnerHttp2Connection(
        IDuplexPipe transport,
        IControlConnectionFeature control,
        EndPoint? localEndPoint,
        InnerApplication application,
        InnerHttp2Limits limits,
        ILogger logger)
    {
        _input = transport.Input;
        _output = transport.Output;
        Control = control;
        PeerIdentity = new ControlPeerIdentity(new Headscale.Actors.Nodes.MachineKey(control.MachineKey.ToString()));
        LocalEndPoint = localEndPoint as IPEndPoint;
        Limits = limits;
        _application = application;
        _logger = logger;
        _hpack = new HpackDecoder(maxHeaderListSize: limits.MaxHeaderListSize);
        _receiveWindow = limits.ConnectionReceiveWindow;
        ConnectionId = "ts2021-" + Interlocked.Increment(ref _nextId).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    public string ConnectionId { get; }

    public IControlConnectionFeature Control { get; }

    public IControlPeerIdentity PeerIdentity { get; }

    public IPEndPoint? LocalEndPoint { get; }

    public InnerHttp2Limits Limits { get; }

    internal InnerApplication Application => _application;

    /// <summary>Serves the connection until the client closes it, breaks the protocol, or <see cref="BeginShutdown"/> ends it.</summary>
    public async Task RunAsync()
    {
        Http2ErrorCode? goAway = null;
        try
        {
            await WriteInitialSettingsAsync();
            await ReadFramesAsync();
        }
        catch (Http2ConnectionException ex)
        {
            LogConnectionError(_logger, ConnectionId, Control.MachineKey.ToString(), ex.Code, ex.Message);
            goAway = ex.Code;
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or OperationCanceledException or ObjectDisposedException
                                       or Headscale.Protocol.Noise.NoiseProtocolException)
        {
            // The Noise transport below is gone; nothing more can be sent.
        }
        catch (Exception ex)
        {
            LogUnexpectedFailure(_logger, ConnectionId, ex);
            goAway = Http2ErrorCode.InternalError;
        }

        if (goAway is { } code)
        {
            await WriteGoAwayAsync(code);
        }

        AbortAll();
        if (HasStreams())
        {
            await _allStreamsDone.Task;
        }

        await CloseOutputAsync();
    }

    /// <summary>The host is stopping: no new streams, a GOAWAY to the client, and every request in flight told it is aborted.</summary>
    public void BeginShutdown()
    {
        lock (_state)
        {
            if (_goingAway)
            {
                return;
            }

            _goingAway = true;
        }

        _ = ShutdownAsync();

        async Task ShutdownAsync()
        {
            await WriteGoAwayAsync(Http2ErrorCode.NoError);
            AbortAll();
            _input.CancelPendingRead();
        }
    }

    private async Task ReadFramesAsync()
    {
        var prefaceRead = false;
        while (true)
        {
            var result = await _input.ReadAsync();
            var buffer = result.Buffer;
            try
            {
                if (result.IsCanceled)
                {
                    return;
                }

                if (!prefaceRead)
                {
                    if (!TryReadPreface(ref buffer, result.IsCompleted))
                    {
                        continue;
                    }

                    prefaceRead = true;
                }

                while (TryReadFrame(ref buffer, out var header, out var payload))
                {
                    await ProcessFrameAsync(header, payload);
                }

                if (result.IsCompleted)
                {
                    if (!buffer.IsEmpty)
                    {
                        throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"connection ended inside a frame ({buffer.Length} bytes left over)");
                    }

                    return;
                }
            }
            finally
            {
                _input.AdvanceTo(buffer.Start, buffer.End);
            }
        }
    }

    private static bool TryReadPreface(ref ReadOnlySequence<byte> buffer, bool completed)
    {
        var preface = Http2FrameHeader.ClientPreface;
        var available = (int)Math.Min(buffer.Length, preface.Length);
        Span<byte> received = stackalloc byte[preface.Length];
        buffer.Slice(0, available).CopyTo(received);
        if (!received[..available].SequenceEqual(preface[..available]))
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "invalid HTTP/2 connection preface");
        }

        if (available < preface.Length)
        {
            if (completed)
            {
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "connection ended inside the HTTP/2 preface");
            }

            return false;
        }

        buffer = buffer.Slice(preface.Length);
        return true;
    }

    private static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out Http2FrameHeader header, out ReadOnlySequence<byte> payload)
    {
        header = default;
        payload = default;
        if (buffer.Length < Http2FrameHeader.Size)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[Http2FrameHeader.Size];
        buffer.Slice(0, Http2FrameHeader.Size).CopyTo(bytes);
        header = Http2FrameHeader.Read(bytes);
        if (header.Length > Http2FrameHeader.DefaultMaxFrameSize)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError,
                $"{header.Type} frame of {header.Length} bytes exceeds SETTINGS_MAX_FRAME_SIZE {Http2FrameHeader.DefaultMaxFrameSize}");
        }

        if (buffer.Length < Http2FrameHeader.Size + header.Length)
        {
            return false;
        }

        payload = buffer.Slice(Http2FrameHeader.Size, header.Length);
        buffer = buffer.Slice(Http2FrameHeader.Size + header.Length);
        return true;
    }

    private ValueTask ProcessFrameAsync(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (_continuationStreamId != 0 && (header.Type != Http2FrameType.Continuation || header.StreamId != _continuationStreamId))
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError,
                $"{header.Type} frame on stream {header.StreamId} while the header block of stream {_continuationStreamId} is incomplete");
        }

        return header.Type switch
        {
            Http2FrameType.Data => OnDataAsync(header, payload),
            Http2FrameType.Headers => OnHeadersAsync(header, payload),
            Http2FrameType.Continuation => OnContinuationAsync(header, payload),
            Http2FrameType.Priority => OnPriority(header),
            Http2FrameType.RstStream => OnRstStream(header, payload),
            Http2FrameType.Settings => OnSettingsAsync(header, payload),
            Http2FrameType.PushPromise => throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "clients may not send PUSH_PROMISE"),
            Http2FrameType.Ping => OnPingAsync(header, payload),
            Http2FrameType.GoAway => OnGoAway(header),
            Http2FrameType.WindowUpdate => OnWindowUpdateAsync(header, payload),
            _ => ValueTask.CompletedTask, // RFC 9113 §4.1: unknown frame types are ignored.
        };
    }

    private async ValueTask OnDataAsync(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (header.StreamId == 0)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "DATA frame on stream 0");
        }

        var data = StripPadding(header, payload);
        InnerHttp2Stream? stream;
        lock (_state)
        {
            _receiveWindow -= header.Length;
            if (_receiveWindow < 0)
            {
                throw new Http2ConnectionException(Http2ErrorCode.FlowControlError, "DATA beyond the connection's flow-control window");
            }

            _streams.TryGetValue(header.StreamId, out stream);
        }

        if (stream is { IsRejected: true })
        {
            // The server has answered already (413): the rest of the body is dropped and its window given back.
            stream.DiscardData(header.HasFlag(Http2FrameFlags.EndStream));
            await ReturnReceiveWindowAsync(header.Length);
            return;
        }

        if (stream is null || stream.RequestEnded)
        {
            stream?.Abort(resetByClient: false);
            if (stream is null && header.StreamId > _lastStreamId)
            {
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"DATA frame on idle stream {header.StreamId}");
            }

            await ReturnReceiveWindowAsync(header.Length);
            if (stream is null && WasRecentlyReset(header.StreamId))
            {
                // RFC 9113 §5.1: frames the client sent before it saw our RST_STREAM are ignored.
                return;
            }

            await WriteRstStreamAsync(header.StreamId, Http2ErrorCode.StreamClosed);
            return;
        }

        var consumed = stream.ReceiveData(header.Length, data, header.HasFlag(Http2FrameFlags.EndStream), out var outcome);
        if (consumed > 0)
        {
            // Padding, and data that will never be buffered (a rejected body), go back at once.
            await ReturnReceiveWindowAsync(consumed);
        }

        switch (outcome)
        {
            case DataOutcome.FlowControlViolated:
                stream.Abort(resetByClient: false);
                RemoveStream(stream);
                await WriteRstStreamAsync(stream.Id, Http2ErrorCode.FlowControlError);
                break;
            case DataOutcome.BodyTooLarge:
                RespondDirect(stream, 413, $"request body is larger than {Limits.MaxRequestBodySize} bytes");
                break;
            case DataOutcome.ContentLengthMismatch:
                stream.Abort(resetByClient: false);
                RemoveStream(stream);
                await WriteRstStreamAsync(stream.Id, Http2ErrorCode.ProtocolError);
                break;
            case DataOutcome.Complete:
                Dispatch(stream);
                break;
        }
    }

    private static ReadOnlySequence<byte> StripPadding(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (!header.HasFlag(Http2FrameFlags.Padded))
        {
            return payload;
        }

        if (payload.IsEmpty)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, $"padded {header.Type} frame without a pad length");
        }

        int padLength = payload.FirstSpan[0];
        if (padLength >= payload.Length)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"{header.Type} padding of {padLength} bytes fills the whole frame");
        }

        return payload.Slice(1, payload.Length - 1 - padLength);
    }

    private async ValueTask OnHeadersAsync(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        var streamId = header.StreamId;
        if (streamId == 0 || (streamId & 1) == 0)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"HEADERS on stream {streamId}: client streams have odd, non-zero ids");
        }

        var fragment = StripPadding(header, payload);
        if (header.HasFlag(Http2FrameFlags.Priority))
        {
            if (fragment.Length < 5)
            {
                throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, "HEADERS priority fields are cut short");
            }

            fragment = fragment.Slice(5);
        }

        if (streamId <= _lastStreamId)
        {
            InnerHttp2Stream? existing;
            lock (_state)
            {
                _streams.TryGetValue(streamId, out existing);
            }

            if (existing is null || existing.RequestEnded)
            {
                throw new Http2ConnectionException(Http2ErrorCode.StreamClosed, $"HEADERS on stream {streamId}, which is closed or was never opened");
            }

            if (!header.HasFlag(Http2FrameFlags.EndStream))
            {
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"trailers on stream {streamId} without END_STREAM");
            }
        }

        _headerBlockLength = 0;
        AppendHeaderBlock(fragment);
        if (header.HasFlag(Http2FrameFlags.EndHeaders))
        {
            await CompleteHeaderBlockAsync(streamId, header.HasFlag(Http2FrameFlags.EndStream));
        }
        else
        {
            _continuationStreamId = streamId;
            _continuationEndsStream = header.HasFlag(Http2FrameFlags.EndStream);
        }
    }

    private ValueTask OnContinuationAsync(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (_continuationStreamId == 0)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"CONTINUATION on stream {header.StreamId} without a HEADERS frame before it");
        }

        AppendHeaderBlock(payload);
        if (!header.HasFlag(Http2FrameFlags.EndHeaders))
        {
            return ValueTask.CompletedTask;
        }

        var streamId = _continuationStreamId;
        _continuationStreamId = 0;
        return CompleteHeaderBlockAsync(streamId, _continuationEndsStream);
    }

    private void AppendHeaderBlock(ReadOnlySequence<byte> fragment)
    {
        var needed = _headerBlockLength + (int)fragment.Length;
        if (needed > Limits.MaxHeaderBlockSize)
        {
            throw new Http2ConnectionException(Http2ErrorCode.EnhanceYourCalm, $"header block larger than {Limits.MaxHeaderBlockSize} bytes");
        }

        if (_headerBlock is null || _headerBlock.Length < needed)
        {
            var larger = ArrayPool<byte>.Shared.Rent(Math.Max(needed, 1024));
            if (_headerBlock is not null)
            {
                _headerBlock.AsSpan(0, _headerBlockLength).CopyTo(larger);
                ArrayPool<byte>.Shared.Return(_headerBlock);
            }

            _headerBlock = larger;
        }

        fragment.CopyTo(_headerBlock.AsSpan(_headerBlockLength));
        _headerBlockLength = needed;
    }

    private async ValueTask CompleteHeaderBlockAsync(int streamId, bool endStream)
    {
        var isNew = streamId > _lastStreamId;
        _head.Begin(trailers: !isNew);
        var listTooLarge = false;
        try
        {
            _hpack.Decode(_headerBlock.AsSpan(0, _headerBlockLength), _head);
        }
        catch (HpackHeaderListTooLargeException)
        {
            listTooLarge = true;
        }
        catch (HpackException ex)
        {
            throw new Http2ConnectionException(Http2ErrorCode.CompressionError, $"header block of stream {streamId}: {ex.Message}");
        }
        finally
        {
            // An idle connection keeps no header buffer.
            if (_headerBlock is not null)
            {
                ArrayPool<byte>.Shared.Return(_headerBlock);
                _headerBlock = null;
            }

            _headerBlockLength = 0;
        }

        if (!isNew)
        {
            await OnTrailersAsync(streamId, listTooLarge);
            return;
        }

        _lastStreamId = streamId;
        if (listTooLarge)
        {
            // The decoder kept its table in step, so only this stream fails.
            LogMalformedRequest(_logger, ConnectionId, streamId, $"header list larger than {Limits.MaxHeaderListSize} bytes");
            await WriteRstStreamAsync(streamId, Http2ErrorCode.ProtocolError);
            return;
        }

        if (_head.CheckRequest() is { } malformed)
        {
            LogMalformedRequest(_logger, ConnectionId, streamId, malformed);
            await WriteRstStreamAsync(streamId, Http2ErrorCode.ProtocolError);
            return;
        }

        InnerHttp2Stream stream;
        lock (_state)
        {
            if (_goingAway || _closed || _streams.Count >= Limits.MaxConcurrentStreams)
            {
                stream = null!;
            }
            else
            {
                stream = new InnerHttp2Stream(this, streamId, _head, endStream, _peerInitialWindow, Limits.StreamReceiveWindow);
                _streams.Add(streamId, stream);
            }
        }

        if (stream is null)
        {
            await WriteRstStreamAsync(streamId, Http2ErrorCode.RefusedStream);
            return;
        }

        if (stream.ContentLengthExceeds(Limits.MaxRequestBodySize))
        {
            RespondDirect(stream, 413, $"request body is larger than {Limits.MaxRequestBodySize} bytes");
            return;
        }

        if (endStream)
        {
            if (stream.ContentLengthMismatch())
            {
                RemoveStream(stream);
                await WriteRstStreamAsync(streamId, Http2ErrorCode.ProtocolError);
                return;
            }

            Dispatch(stream);
        }
    }

    private async ValueTask OnTrailersAsync(int streamId, bool listTooLarge)
    {
        InnerHttp2Stream? stream;
        lock (_state)
        {
            _streams.TryGetValue(streamId, out stream);
        }

        if (stream is null)
        {
            return;
        }

        if (listTooLarge || _head.Error is not null || !stream.EndRequest())
        {
            stream.Abort(resetByClient: false);
            RemoveStream(stream);
            await WriteRstStreamAsync(streamId, Http2ErrorCode.ProtocolError);
            return;
        }

        Dispatch(stream);
    }

    private ValueTask OnPriority(Http2FrameHeader header)
    {
        if (header.StreamId == 0)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "PRIORITY frame on stream 0");
        }

        if (header.Length != 5)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, $"PRIORITY frame of {header.Length} bytes (must be 5)");
        }

        return ValueTask.CompletedTask;
    }

    private ValueTask OnRstStream(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (header.StreamId == 0)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "RST_STREAM frame on stream 0");
        }

        if (header.Length != 4)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, $"RST_STREAM frame of {header.Length} bytes (must be 4)");
        }

        if (header.StreamId > _lastStreamId)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"RST_STREAM on idle stream {header.StreamId}");
        }

        InnerHttp2Stream? stream;
        lock (_state)
        {
            _streams.TryGetValue(header.StreamId, out stream);
        }

        stream?.Abort(resetByClient: true);
        return ValueTask.CompletedTask;
    }

    private async ValueTask OnSettingsAsync(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (header.StreamId != 0)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"SETTINGS frame on stream {header.StreamId}");
        }

        if (header.HasFlag(Http2FrameFlags.Ack))
        {
            if (header.Length != 0)
            {
                throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, "SETTINGS acknowledgement with a payload");
            }

            return;
        }

        if (header.Length % 6 != 0)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, $"SETTINGS frame of {header.Length} bytes (not a multiple of 6)");
        }

        var bytes = payload.ToArray();
        for (var offset = 0; offset < bytes.Length; offset += 6)
        {
            var id = (Http2SettingId)BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(offset));
            var value = BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(offset + 2));
            ApplySetting(id, value);
        }

        await WriteFrameAsync(new Http2FrameHeader(0, Http2FrameType.Settings, Http2FrameFlags.Ack, 0), ReadOnlyMemory<byte>.Empty);
    }

    private void ApplySetting(Http2SettingId id, uint value)
    {
        switch (id)
        {
            case Http2SettingId.EnablePush when value > 1:
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"SETTINGS_ENABLE_PUSH {value} (must be 0 or 1)");
            case Http2SettingId.InitialWindowSize when value > Http2FrameHeader.MaxWindowSize:
                throw new Http2ConnectionException(Http2ErrorCode.FlowControlError, $"SETTINGS_INITIAL_WINDOW_SIZE {value} exceeds 2^31-1");
            case Http2SettingId.InitialWindowSize:
                lock (_state)
                {
                    var delta = (int)value - _peerInitialWindow;
                    _peerInitialWindow = (int)value;
                    foreach (var stream in _streams.Values)
                    {
                        if (!stream.AdjustSendWindow(delta))
                        {
                            throw new Http2ConnectionException(Http2ErrorCode.FlowControlError, $"SETTINGS_INITIAL_WINDOW_SIZE {value} overflows the window of stream {stream.Id}");
                        }
                    }

                    WakeWindowWaiters();
                }

                break;
            case Http2SettingId.MaxFrameSize when value is < Http2FrameHeader.DefaultMaxFrameSize or > Http2FrameHeader.MaxAllowedFrameSize:
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"SETTINGS_MAX_FRAME_SIZE {value} is outside 16384..16777215");
            case Http2SettingId.MaxFrameSize:
                // Larger frames save little when every 4077 plaintext bytes are a Noise record anyway.
                Volatile.Write(ref _peerMaxFrameSize, (int)Math.Min(value, 64 * 1024));
                break;
            default:
                // HEADER_TABLE_SIZE: responses use no dynamic table. MAX_CONCURRENT_STREAMS: the server opens none.
                // MAX_HEADER_LIST_SIZE: response heads are a few fields. Unknown settings are ignored (§6.5.2).
                break;
        }
    }

    private async ValueTask OnPingAsync(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (header.StreamId != 0)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"PING frame on stream {header.StreamId}");
        }

        if (header.Length != 8)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, $"PING frame of {header.Length} bytes (must be 8)");
        }

        if (!header.HasFlag(Http2FrameFlags.Ack))
        {
            await WriteFrameAsync(new Http2FrameHeader(8, Http2FrameType.Ping, Http2FrameFlags.Ack, 0), payload.ToArray());
        }
    }

    private ValueTask OnGoAway(Http2FrameHeader header)
    {
        if (header.StreamId != 0)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"GOAWAY frame on stream {header.StreamId}");
        }

        if (header.Length < 8)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, $"GOAWAY frame of {header.Length} bytes (at least 8)");
        }

        // The client opens no more streams; those in flight finish, and the client closes the connection.
        return ValueTask.CompletedTask;
    }

    private async ValueTask OnWindowUpdateAsync(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (header.Length != 4)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, $"WINDOW_UPDATE frame of {header.Length} bytes (must be 4)");
        }

        Span<byte> bytes = stackalloc byte[4];
        payload.CopyTo(bytes);
        var increment = (int)(BinaryPrimitives.ReadUInt32BigEndian(bytes) & 0x7fff_ffff);
        if (header.StreamId == 0)
        {
            if (increment == 0)
            {
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "WINDOW_UPDATE of 0 on the connection");
            }

            lock (_state)
            {
                _sendWindow += increment;
                if (_sendWindow > Http2FrameHeader.MaxWindowSize)
                {
                    throw new Http2ConnectionException(Http2ErrorCode.FlowControlError, "WINDOW_UPDATE grows the connection window past 2^31-1");
                }

                WakeWindowWaiters();
            }

            return;
        }

        if (header.StreamId > _lastStreamId)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"WINDOW_UPDATE on idle stream {header.StreamId}");
        }

        InnerHttp2Stream? stream;
        lock (_state)
        {
            _streams.TryGetValue(header.StreamId, out stream);
        }

        if (stream is null)
        {
            return;
        }

        if (increment == 0 || !stream.AdjustSendWindow(increment))
        {
            stream.Abort(resetByClient: false);
            await WriteRstStreamAsync(stream.Id, increment == 0 ? Http2ErrorCode.ProtocolError : Http2ErrorCode.FlowControlError);
            return;
        }

        lock (_state)
        {
            WakeWindowWaiters();
        }
    }

    private void Dispatch(InnerHttp2Stream stream)
    {
        if (!_application.IsReady)
        {
            RespondDirect(stream, 503, "the server is starting");
            return;
        }

        stream.IsDispatched = true;
        ThreadPool.UnsafeQueueUserWorkItem(stream, preferLocal: false);
    }

    /// <summary>
    /// A response the server makes itself (413, 503), sent in the background: its DATA may have to wait for the client's
    /// window, which only the frame loop can open. The rest of the request body is dropped as it arrives.
    /// </summary>
    private void RespondDirect(InnerHttp2Stream stream, int status, string message)
    {
        stream.Reject();
        _ = RespondAsync();

        async Task RespondAsync()
        {
            var body = System.Text.Encoding.UTF8.GetBytes(message + "\n");
            var head = new byte[128];
            HpackEncoder.TryEncodeStatus(status, head, out var length);
            HpackEncoder.TryEncodeLiteral("content-type", "text/plain; charset=utf-8", head.AsSpan(length), out var written);
            length += written;
            await WriteHeadersAsync(stream.Id, head.AsMemory(0, length), endStream: false);
            await WriteDataAsync(stream, body, endStream: true);
            if (!stream.RequestEnded && !stream.IsAborted)
            {
                // RFC 9113 §8.1: the response is complete; the client may stop sending its body.
                await WriteRstStreamAsync(stream.Id, Http2ErrorCode.NoError);
            }

            stream.Abort(resetByClient: false);
            RemoveStream(stream);
        }
    }

    internal void RemoveStream(InnerHttp2Stream stream)
    {
        bool last;
        lock (_state)
        {
            if (!_streams.Remove(stream.Id))
            {
                return;
            }

            _windowWaiters.Remove(stream);
            last = _streams.Count == 0 && _closed;
        }

        var held = stream.ReleaseRequestBody();
        if (held > 0)
        {
            _ = ReturnReceiveWindowAsync(held).AsTask();
        }

        if (last)
        {
            _allStreamsDone.TrySetResult();
        }
    }

    private bool HasStreams()
    {
        lock (_state)
        {
            if (_streams.Count == 0)
            {
                _allStreamsDone.TrySetResult();
                return false;
            }

            return true;
        }
    }

    private void AbortAll()
    {
        InnerHttp2Stream[] streams;
        lock (_state)
        {
            _closed = true;
            streams = [.. _streams.Values];
            WakeWindowWaiters();
        }

        foreach (var stream in streams)
        {
            stream.Abort(resetByClient: false);
            if (!stream.IsDispatched && !stream.IsRejected)
            {
                // No request runs for it (its body never ended), so nothing else would remove it.
                RemoveStream(stream);
            }
        }
    }

    internal bool IsClosed
    {
        get
        {
            lock (_state)
            {
                return _closed;
            }
        }
    }

    /// <summary>Gives back receive window for request bytes the server no longer holds.</summary>
    internal async ValueTask ReturnReceiveWindowAsync(int bytes)
    {
        lock (_state)
        {
            _receiveWindow += bytes;
        }

        await WriteWindowUpdateAsync(0, bytes);
    }

    /// <summary>
    /// Takes up to <paramref name="wanted"/> bytes of send window from the connection and the stream, waiting while either
    /// is empty. Zero when the stream or the connection is gone: the data is dropped, as for a client that went away.
    /// </summary>
    internal async ValueTask<int> ReserveSendWindowAsync(InnerHttp2Stream stream, int wanted)
    {
        while (true)
        {
            Task wait;
            lock (_state)
            {
                if (_closed || stream.IsAborted)
                {
                    return 0;
                }

                var granted = (int)Math.Min(wanted, Math.Min(_sendWindow, stream.SendWindow));
                if (granted > 0)
                {
                    _sendWindow -= granted;
                    stream.TakeSendWindow(granted);
                    return granted;
                }

                wait = stream.WaitForWindow();
                if (!_windowWaiters.Contains(stream))
                {
                    _windowWaiters.Add(stream);
                }
            }

            await wait;
        }
    }

    private void WakeWindowWaiters()
    {
        foreach (var waiter in _windowWaiters)
        {
            waiter.WindowChanged();
        }

        _windowWaiters.Clear();
    }

    private ValueTask WriteInitialSettingsAsync()
    {
        var payload = new byte[18 + 4];
        WriteSetting(payload, Http2SettingId.MaxConcurrentStreams, (uint)Limits.MaxConcurrentStreams);
        WriteSetting(payload.AsSpan(6), Http2SettingId.InitialWindowSize, (uint)Limits.StreamReceiveWindow);
        WriteSetting(payload.AsSpan(12), Http2SettingId.MaxHeaderListSize, (uint)Limits.MaxHeaderListSize);
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(18), (uint)(Limits.ConnectionReceiveWindow - Http2FrameHeader.DefaultWindowSize));
        return WriteFramesAsync(
            new Http2FrameHeader(18, Http2FrameType.Settings, Http2FrameFlags.None, 0), payload.AsMemory(0, 18),
            new Http2FrameHeader(4, Http2FrameType.WindowUpdate, Http2FrameFlags.None, 0), payload.AsMemory(18, 4));

        static void WriteSetting(Span<byte> destination, Http2SettingId id, uint value)
        {
            BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)id);
            BinaryPrimitives.WriteUInt32BigEndian(destination[2..], value);
        }
    }

    private ValueTask WriteGoAwayAsync(Http2ErrorCode code)
    {
        var payload = new byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(payload, (uint)_lastStreamId);
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(4), (uint)code);
        return WriteFrameAsync(new Http2FrameHeader(8, Http2FrameType.GoAway, Http2FrameFlags.None, 0), payload);
    }

    internal ValueTask WriteRstStreamAsync(int streamId, Http2ErrorCode code)
    {
        lock (_recentlyReset)
        {
            _recentlyReset[_recentlyResetNext] = streamId;
            _recentlyResetNext = (_recentlyResetNext + 1) % _recentlyReset.Length;
        }

        var payload = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(payload, (uint)code);
        return WriteFrameAsync(new Http2FrameHeader(4, Http2FrameType.RstStream, Http2FrameFlags.None, streamId), payload);
    }

    private bool WasRecentlyReset(int streamId)
    {
        lock (_recentlyReset)
        {
            return Array.IndexOf(_recentlyReset, streamId) >= 0;
        }
    }

    private ValueTask WriteWindowUpdateAsync(int streamId, int increment)
    {
        var payload = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(payload, (uint)increment);
        return WriteFrameAsync(new Http2FrameHeader(4, Http2FrameType.WindowUpdate, Http2FrameFlags.None, streamId), payload);
    }

    private ValueTask WriteFrameAsync(Http2FrameHeader header, ReadOnlyMemory<byte> payload) =>
        WriteFramesAsync(header, payload, default, default);

    private async ValueTask WriteFramesAsync(Http2FrameHeader first, ReadOnlyMemory<byte> firstPayload, Http2FrameHeader second, ReadOnlyMemory<byte> secondPayload)
    {
        await _writeLock.WaitAsync();
        try
        {
            if (_outputClosed)
            {
                return;
            }

            Put(first, firstPayload.Span);
            if (second.Type != default || second.Length != 0 || second.StreamId != 0 || second.Flags != default)
            {
                Put(second, secondPayload.Span);
            }

            await FlushLockedAsync();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>A response head: one HEADERS frame, or HEADERS and CONTINUATIONs when it exceeds the peer's frame size.</summary>
    internal async ValueTask WriteHeadersAsync(int streamId, ReadOnlyMemory<byte> block, bool endStream)
    {
        await _writeLock.WaitAsync();
        try
        {
            if (_outputClosed)
            {
                return;
            }

            var maxFrame = Volatile.Read(ref _peerMaxFrameSize);
            var type = Http2FrameType.Headers;
            var remaining = block.Span;
            do
            {
                var size = Math.Min(remaining.Length, maxFrame);
                var flags = size == remaining.Length ? Http2FrameFlags.EndHeaders : Http2FrameFlags.None;
                if (type == Http2FrameType.Headers && endStream)
                {
                    flags |= Http2FrameFlags.EndStream;
                }

                Put(new Http2FrameHeader(size, type, flags, streamId), remaining[..size]);
                remaining = remaining[size..];
                type = Http2FrameType.Continuation;
            }
            while (!remaining.IsEmpty);

            await FlushLockedAsync();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// Response body bytes as DATA frames, within the flow-control windows: as much as the windows allow goes out under
    /// one lock and one flush; the rest waits for WINDOW_UPDATE. Dropped if the stream was reset or the connection closed.
    /// </summary>
    internal async ValueTask WriteDataAsync(InnerHttp2Stream stream, ReadOnlyMemory<byte> data, bool endStream)
    {
        if (data.IsEmpty)
        {
            if (endStream && !stream.IsAborted)
            {
                await WriteFrameAsync(new Http2FrameHeader(0, Http2FrameType.Data, Http2FrameFlags.EndStream, stream.Id), default);
            }

            return;
        }

        while (!data.IsEmpty)
        {
            var granted = await ReserveSendWindowAsync(stream, data.Length);
            if (granted == 0)
            {
                return;
            }

            await _writeLock.WaitAsync();
            try
            {
                if (_outputClosed)
                {
                    return;
                }

                var maxFrame = Volatile.Read(ref _peerMaxFrameSize);
                var chunk = data.Span[..granted];
                while (!chunk.IsEmpty)
                {
                    var size = Math.Min(chunk.Length, maxFrame);
                    var last = size == chunk.Length && granted == data.Length;
                    Put(new Http2FrameHeader(size, Http2FrameType.Data, last && endStream ? Http2FrameFlags.EndStream : Http2FrameFlags.None, stream.Id), chunk[..size]);
                    chunk = chunk[size..];
                }

                await FlushLockedAsync();
            }
            finally
            {
                _writeLock.Release();
            }

            data = data[granted..];
        }
    }

    private void Put(Http2FrameHeader header, ReadOnlySpan<byte> payload)
    {
        var span = _output.GetSpan(Http2FrameHeader.Size + payload.Length);
        header.Write(span);
        payload.CopyTo(span[Http2FrameHeader.Size..]);
        _output.Advance(Http2FrameHeader.Size + payload.Length);
    }

    private async ValueTask FlushLockedAsync()
    {
        try
        {
            var result = await _output.FlushAsync();
            if (result.IsCompleted || result.IsCanceled)
            {
                MarkOutputGone();
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or OperationCanceledException or ObjectDisposedException
                                       or Headscale.Protocol.Noise.NoiseProtocolException)
        {
            MarkOutputGone();
        }
    }

    private void MarkOutputGone()
    {
        _outputClosed = true;
        lock (_state)
        {
            _closed = true;
            WakeWindowWaiters();
        }

        _input.CancelPendingRead();
    }

    private async ValueTask CloseOutputAsync()
    {
        await _writeLock.WaitAsync();
        try
        {
            _outputClosed = true;
            await _output.CompleteAsync();
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            _writeLock.Release();
        }
    }

    [LoggerMessage(EventId = 3010, Level = LogLevel.Information, Message = "ts2021 connection {ConnectionId} of {MachineKey}: HTTP/2 {Code}: {Reason}")]
    private static partial void LogConnectionError(ILogger logger, string connectionId, string machineKey, Http2ErrorCode code, string reason);

    [LoggerMessage(EventId = 3012, Level = LogLevel.Error, Message = "ts2021 connection {ConnectionId} failed")]
    private static partial void LogUnexpectedFailure(ILogger logger, string connectionId, Exception exception);

    [LoggerMessage(EventId = 3011, Level = LogLevel.Debug, Message = "ts2021 connection {ConnectionId}: stream {StreamId} reset: {Reason}")]
    private static partial void LogMalformedRequest(ILogger logger, string connectionId, int streamId, string reason);
}
