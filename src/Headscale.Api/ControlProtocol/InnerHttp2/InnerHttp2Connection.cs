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
    /// <summary>How long a connection may have no open stream before the server ends it with GOAWAY; infinite (or not positive): never.</summary>
    public TimeSpan IdleTimeout { get; init; } = Timeout.InfiniteTimeSpan;

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

    private ITimer? _idleTimer;
    private const int RecentlyResetKept = 16;
    private int[]? _recentlyReset;
    private int _recentlyResetNext;
    private int _lastStreamId;
    private long _sendWindow = Http2FrameHeader.DefaultWindowSize;
    private long _receiveWindow;
    private int _peerInitialWindow = Http2FrameHeader.DefaultWindowSize;
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
        IPEndPoint? localEndPoint,
        InnerApplication application,
        InnerHttp2Limits limits,
        ILogger logger)
    {
        _input = transport.Input;
        _output = transport.Output;
        Control = control;
        PeerIdentity = new ControlPeerIdentity(new Headscale.Actors.Nodes.MachineKey(control.MachineKey.ToString()));
        LocalEndPoint = localEndPoint;
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
            lock (_state)
            {
                ArmIdleTimer();
            }

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

        lock (_state)
        {
            _idleTimer?.Dispose();
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
            if (_streams.Count == 0)
            {
                ArmIdleTimer();
            }
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

    /// <summary>Starts the idle clock; call under <c>_state</c> when the connection has no stream. A new stream stops it.</summary>
    private void ArmIdleTimer()
    {
        if (Limits.IdleTimeout <= TimeSpan.Zero || _goingAway || _closed)
        {
            return;
        }

        _idleTimer ??= TimeProvider.System.CreateTimer(
            static state => ((InnerHttp2Connection)state!).CloseIfIdle(), this, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _idleTimer.Change(Limits.IdleTimeout, Timeout.InfiniteTimeSpan);
    }

    private void DisarmIdleTimer() => _idleTimer?.Change(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

    private void CloseIfIdle()
    {
        lock (_state)
        {
            // A stream may have opened after the timer fired but before this ran.
            if (_streams.Count > 0 || _goingAway || _closed)
            {
                return;
            }
        }

        LogIdleClose(_logger, ConnectionId, Control.MachineKey.ToString(), Limits.IdleTimeout);
        BeginShutdown();
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

    [LoggerMessage(EventId = 3010, Level = LogLevel.Information, Message = "ts2021 connection {ConnectionId} of {MachineKey}: HTTP/2 {Code}: {Reason}")]
    private static partial void LogConnectionError(ILogger logger, string connectionId, string machineKey, Http2ErrorCode code, string reason);

    [LoggerMessage(EventId = 3013, Level = LogLevel.Debug, Message = "ts2021 connection {ConnectionId} of {MachineKey} closed after {IdleTimeout} without a request")]
    private static partial void LogIdleClose(ILogger logger, string connectionId, string machineKey, TimeSpan idleTimeout);

    [LoggerMessage(EventId = 3012, Level = LogLevel.Error, Message = "ts2021 connection {ConnectionId} failed")]
    private static partial void LogUnexpectedFailure(ILogger logger, string connectionId, Exception exception);

    [LoggerMessage(EventId = 3011, Level = LogLevel.Debug, Message = "ts2021 connection {ConnectionId}: stream {StreamId} reset: {Reason}")]
    private static partial void LogMalformedRequest(ILogger logger, string connectionId, int streamId, string reason);
}
