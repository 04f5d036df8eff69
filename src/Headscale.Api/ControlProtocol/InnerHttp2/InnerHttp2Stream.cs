using System.Buffers;
using System.Collections;
using System.IO.Pipelines;
using System.Net;
using Headscale.Api.ControlPlane;
using Headscale.Protocol.Buffers;
using Headscale.Protocol.Http2;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Headscale.Api.ControlProtocol.InnerHttp2;

/// <summary>What a DATA frame did to its stream.</summary>
internal enum DataOutcome
{
    Buffered,
    Complete,
    BodyTooLarge,
    ContentLengthMismatch,
    FlowControlViolated,
}

/// <summary>
/// One request stream: its buffered request, its response state, and the HTTP features the host's pipeline sees (the
/// stream is its own feature collection, as Kestrel's streams are, so a request costs one object plus the context).
/// </summary>
internal sealed class InnerHttp2Stream :
    IThreadPoolWorkItem,
    IFeatureCollection,
    IHttpRequestFeature,
    IHttpResponseFeature,
    IHttpResponseBodyFeature,
    IHttpRequestLifetimeFeature,
    IHttpConnectionFeature,
    IHttpRequestIdentifierFeature,
    IHttpRequestBodyDetectionFeature,
    IHttpMaxRequestBodySizeFeature
{
    private readonly InnerHttp2Connection _connection;
    private readonly object _sync = new();
    private readonly long? _contentLength;
    // Features the pipeline sets (endpoint, route values, request services: a handful): a short array searched in
    // order costs a streaming poll less for its hours than a dictionary.
    private KeyValuePair<Type, object?>[]? _overrides;
    private int _overrideCount;
    private int _revision;
    private long _sendWindow;
    private int _receiveWindow;
    private byte[]? _body;
    private int _bodyLength;
    private int _heldWindow;
    private TaskCompletionSource? _windowWaiter;
    private CancellationTokenSource? _aborted;
    private bool _isAborted;
    private ResponseBodyWriter? _writer;
    private Stream? _responseStream;
    private Stack<(Func<object, Task> Callback, object State)>? _onStarting;
    private Stack<(Func<object, Task> Callback, object State)>? _onCompleted;
    private bool _responseCompleted;
    private string? _traceIdentifier;

    public InnerHttp2Stream(InnerHttp2Connection connection, int id, RequestHeadCollector head, bool endStream, int sendWindow, int receiveWindow)
    {
        _connection = connection;
        Id = id;
        Method = head.Method!;
        Scheme = head.Scheme!;
        RawTarget = head.Path!;
        var query = RawTarget.IndexOf('?', StringComparison.Ordinal);
        Path = PathString.FromUriComponent(query < 0 ? RawTarget : RawTarget[..query]).Value ?? "/";
        QueryString = query < 0 ? string.Empty : RawTarget[query..];
        Headers = head.Headers!;
        if (head.Authority is { Length: > 0 } authority && !Headers.ContainsKey("Host"))
        {
            Headers.Host = authority;
        }

        _contentLength = head.ContentLength;
        RequestEnded = endStream;
        CanHaveBody = !endStream;
        _sendWindow = sendWindow;
        _receiveWindow = receiveWindow;
        Body = new RequestBodyStream(this);
    }

    public int Id { get; }

    /// <summary>The client sent END_STREAM: the request is complete.</summary>
    public bool RequestEnded { get; private set; }

    public bool IsAborted => Volatile.Read(ref _isAborted);

    /// <summary>The server answered without running the request (413, 503); further DATA is dropped.</summary>
    public bool IsRejected { get; private set; }

    public void Reject() => IsRejected = true;

    /// <summary>The request was handed to the application, which removes the stream when it finishes.</summary>
    public bool IsDispatched { get; set; }

    /// <summary>DATA for a rejected stream: nothing is kept, but END_STREAM still ends the request side.</summary>
    public void DiscardData(bool endStream)
    {
        if (endStream)
        {
            RequestEnded = true;
        }
    }

    internal long SendWindow => _sendWindow;

    // --- request side, driven by the connection's frame loop ---

    /// <summary>Buffers a DATA frame's data; returns how much of the frame's window to give back at once.</summary>
    public int ReceiveData(int frameLength, ReadOnlySequence<byte> data, bool endStream, out DataOutcome outcome)
    {
        _receiveWindow -= frameLength;
        var giveBack = frameLength - (int)data.Length;
        if (_receiveWindow < 0)
        {
            outcome = DataOutcome.FlowControlViolated;
            return frameLength;
        }

        var limit = _connection.Limits.MaxRequestBodySize;
        if (_bodyLength + data.Length > limit)
        {
            outcome = DataOutcome.BodyTooLarge;
            return giveBack + (int)data.Length;
        }

        if (!data.IsEmpty)
        {
            var needed = _bodyLength + (int)data.Length;
            PooledBuffer.EnsureCapacity(ref _body, _bodyLength, needed, minimumSize: 1024);

            data.CopyTo(_body.AsSpan(_bodyLength));
            _bodyLength = needed;
            Interlocked.Add(ref _heldWindow, (int)data.Length);
        }

        if (!endStream)
        {
            outcome = DataOutcome.Buffered;
            return giveBack;
        }

        outcome = EndRequest() ? DataOutcome.Complete : DataOutcome.ContentLengthMismatch;
        return giveBack;
    }

    /// <summary>Marks the request complete; false if its content-length disagrees with the body received.</summary>
    public bool EndRequest()
    {
        RequestEnded = true;
        return !ContentLengthMismatch();
    }

    public bool ContentLengthMismatch() => _contentLength is { } declared && declared != _bodyLength;

    public bool ContentLengthExceeds(long limit) => _contentLength > limit;

    /// <summary>Returns the body buffer to the pool; the result is the connection window it held.</summary>
    public int ReleaseRequestBody()
    {
        var held = Interlocked.Exchange(ref _heldWindow, 0);
        byte[]? body;
        lock (_sync)
        {
            body = _body;
            _body = null;
        }

        if (body is not null)
        {
            ArrayPool<byte>.Shared.Return(body);
        }

        return held;
    }

    internal int ReadBody(int position, Span<byte> destination)
    {
        lock (_sync)
        {
            if (_body is null || position >= _bodyLength)
            {
                return 0;
            }

            var count = Math.Min(destination.Length, _bodyLength - position);
            _body.AsSpan(position, count).CopyTo(destination);
            return count;
        }
    }

    internal int BodyLength => _bodyLength;

    /// <summary>The application read the whole body: the buffer and its window go back now, not when the request ends.</summary>
    internal void BodyConsumed()
    {
        var held = ReleaseRequestBody();
        if (held > 0)
        {
            _ = _connection.ReturnReceiveWindowAsync(held).AsTask();
        }
    }

    // --- flow control of the response ---

    internal void TakeSendWindow(int bytes)
    {
        lock (_sync)
        {
            _sendWindow -= bytes;
        }
    }

    /// <summary>Applies a WINDOW_UPDATE or a change of SETTINGS_INITIAL_WINDOW_SIZE; false if the window would exceed 2^31-1.</summary>
    internal bool AdjustSendWindow(int delta)
    {
        lock (_sync)
        {
            var next = _sendWindow + delta;
            if (next > Http2FrameHeader.MaxWindowSize)
            {
                return false;
            }

            _sendWindow = next;
            return true;
        }
    }

    internal Task WaitForWindow()
    {
        lock (_sync)
        {
            _windowWaiter ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            return _windowWaiter.Task;
        }
    }

    internal void WindowChanged()
    {
        TaskCompletionSource? waiter;
        lock (_sync)
        {
            waiter = _windowWaiter;
            _windowWaiter = null;
        }

        waiter?.TrySetResult();
    }

    /// <summary>The client reset the stream, the connection closed, or the server answered on its own: writes are dropped from now on.</summary>
    public void Abort(bool resetByClient)
    {
        CancellationTokenSource? aborted;
        lock (_sync)
        {
            if (_isAborted)
            {
                return;
            }

            _isAborted = true;
            aborted = _aborted;
        }

        WindowChanged();
        try
        {
            aborted?.Cancel();
        }
        catch (AggregateException)
        {
            // A registration's callback failed; the request is aborted either way.
        }
    }

    // --- running the request ---

    void IThreadPoolWorkItem.Execute() => _ = _connection.Application.RunAsync(this, FinishAsync);

    private async Task FinishAsync(Exception? failure)
    {
        try
        {
            if (failure is not null && !HasStarted)
            {
                StatusCode = StatusCodes.Status500InternalServerError;
                ReasonPhrase = null;
                _responseHeaders?.Clear();
                _writer?.DropUnsent();
            }

            if (failure is not null && HasStarted)
            {
                if (!IsAborted)
                {
                    Abort(resetByClient: false);
                    await _connection.WriteRstStreamAsync(Id, Http2ErrorCode.InternalError);
                }
            }
            else
            {
                await CompleteResponseAsync();
            }
        }
        finally
        {
            await RunCallbacksAsync(_onCompleted);
            _connection.RemoveStream(this);
        }
    }

    private async Task CompleteResponseAsync()
    {
        if (_responseCompleted)
        {
            return;
        }

        _responseCompleted = true;
        if (!HasStarted)
        {
            await StartResponseAsync(endStream: _writer is not { UnflushedBytes: > 0 });
            if (_writer is not { UnflushedBytes: > 0 })
            {
                return;
            }
        }

        if (_writer is not null)
        {
            await _writer.SendBufferedAsync(endStream: true);
        }
        else
        {
            await _connection.WriteDataAsync(this, ReadOnlyMemory<byte>.Empty, endStream: true);
        }
    }

    internal async Task StartResponseAsync(bool endStream = false)
    {
        if (HasStarted)
        {
            return;
        }

        await RunCallbacksAsync(_onStarting);
        HasStarted = true;
        if (IsAborted)
        {
            return;
        }

        var head = ResponseHeadEncoder.Encode(StatusCode, _responseHeaders, out var length);
        try
        {
            await _connection.WriteHeadersAsync(Id, head.AsMemory(0, length), endStream);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(head);
        }
    }

    private static async Task RunCallbacksAsync(Stack<(Func<object, Task> Callback, object State)>? callbacks)
    {
        if (callbacks is null)
        {
            return;
        }

        while (callbacks.TryPop(out var entry))
        {
            await entry.Callback(entry.State);
        }
    }

    // --- IFeatureCollection ---

    bool IFeatureCollection.IsReadOnly => false;

    int IFeatureCollection.Revision => _revision;

    object? IFeatureCollection.this[Type key]
    {
        get
        {
            var index = OverrideIndex(key);
            return index >= 0 ? _overrides![index].Value : Known(key);
        }

        set
        {
            var index = OverrideIndex(key);
            if (index < 0)
            {
                _overrides ??= new KeyValuePair<Type, object?>[4];
                if (_overrideCount == _overrides.Length)
                {
                    Array.Resize(ref _overrides, _overrides.Length * 2);
                }

                index = _overrideCount++;
            }

            _overrides![index] = new KeyValuePair<Type, object?>(key, value);
            _revision++;
        }
    }

    TFeature? IFeatureCollection.Get<TFeature>()
        where TFeature : default => (TFeature?)((IFeatureCollection)this)[typeof(TFeature)];

    void IFeatureCollection.Set<TFeature>(TFeature? instance)
        where TFeature : default => ((IFeatureCollection)this)[typeof(TFeature)] = instance;

    IEnumerator<KeyValuePair<Type, object>> IEnumerable<KeyValuePair<Type, object>>.GetEnumerator()
    {
        foreach (var type in KnownTypes)
        {
            if (((IFeatureCollection)this)[type] is { } feature)
            {
                yield return new KeyValuePair<Type, object>(type, feature);
            }
        }

        for (var i = 0; i < _overrideCount; i++)
        {
            var (type, feature) = _overrides![i];
            if (feature is not null && Array.IndexOf(KnownTypes, type) < 0)
            {
                yield return new KeyValuePair<Type, object>(type, feature);
            }
        }
    }

    IEnumerator IEnumerable.GetEnumerator() => ((IEnumerable<KeyValuePair<Type, object>>)this).GetEnumerator();

    private int OverrideIndex(Type key)
    {
        for (var i = 0; i < _overrideCount; i++)
        {
            if (_overrides![i].Key == key)
            {
                return i;
            }
        }

        return -1;
    }

    private static readonly Type[] KnownTypes =
    [
        typeof(IHttpRequestFeature), typeof(IHttpResponseFeature), typeof(IHttpResponseBodyFeature), typeof(IHttpRequestLifetimeFeature),
        typeof(IHttpConnectionFeature), typeof(IHttpRequestIdentifierFeature), typeof(IHttpRequestBodyDetectionFeature),
        typeof(IHttpMaxRequestBodySizeFeature), typeof(IControlConnectionFeature), typeof(IControlPeerIdentity),
    ];

    private object? Known(Type key)
    {
        if (key == typeof(IHttpRequestFeature) || key == typeof(IHttpResponseFeature) || key == typeof(IHttpResponseBodyFeature)
            || key == typeof(IHttpRequestLifetimeFeature) || key == typeof(IHttpConnectionFeature) || key == typeof(IHttpRequestIdentifierFeature)
            || key == typeof(IHttpRequestBodyDetectionFeature) || key == typeof(IHttpMaxRequestBodySizeFeature))
        {
            return this;
        }

        if (key == typeof(IControlConnectionFeature))
        {
            return _connection.Control;
        }

        if (key == typeof(IControlPeerIdentity))
        {
            return _connection.PeerIdentity;
        }

        return null;
    }

    // --- IHttpRequestFeature ---

    public string Protocol { get; set; } = "HTTP/2";

    public string Scheme { get; set; }

    public string Method { get; set; }

    public string PathBase { get; set; } = string.Empty;

    public string Path { get; set; }

    public string QueryString { get; set; }

    public string RawTarget { get; set; }

    IHeaderDictionary IHttpRequestFeature.Headers
    {
        get => Headers;
        set => Headers = value;
    }

    public IHeaderDictionary Headers { get; set; }

    public Stream Body { get; set; }

    // --- IHttpResponseFeature ---

    private HeaderDictionary? _responseHeaders;
    private IHeaderDictionary? _replacedResponseHeaders;

    public int StatusCode { get; set; } = StatusCodes.Status200OK;

    public string? ReasonPhrase { get; set; }

    IHeaderDictionary IHttpResponseFeature.Headers
    {
        get => _replacedResponseHeaders ?? (_responseHeaders ??= new HeaderDictionary());
        set => _replacedResponseHeaders = value;
    }

    [Obsolete("Use IHttpResponseBodyFeature.Stream.")]
    Stream IHttpResponseFeature.Body
    {
        get => ((IHttpResponseBodyFeature)this).Stream;
        set => throw new NotSupportedException("Replace the response body through IHttpResponseBodyFeature.");
    }

    public bool HasStarted { get; private set; }

    public void OnStarting(Func<object, Task> callback, object state)
    {
        if (HasStarted)
        {
            throw new InvalidOperationException("The response has already started.");
        }

        (_onStarting ??= new()).Push((callback, state));
    }

    public void OnCompleted(Func<object, Task> callback, object state) => (_onCompleted ??= new()).Push((callback, state));

    // --- IHttpResponseBodyFeature ---

    Stream IHttpResponseBodyFeature.Stream => _responseStream ??= Writer.AsStream(leaveOpen: true);

    public PipeWriter Writer => _writer ??= new ResponseBodyWriter(this, _connection);

    void IHttpResponseBodyFeature.DisableBuffering()
    {
    }

    Task IHttpResponseBodyFeature.StartAsync(CancellationToken cancellationToken) => StartResponseAsync();

    Task IHttpResponseBodyFeature.SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken) =>
        SendFileFallback.SendFileAsync(((IHttpResponseBodyFeature)this).Stream, path, offset, count, cancellationToken);

    Task IHttpResponseBodyFeature.CompleteAsync() => CompleteResponseAsync();

    // --- IHttpRequestLifetimeFeature ---

    public CancellationToken RequestAborted
    {
        get
        {
            lock (_sync)
            {
                if (_isAborted)
                {
                    return new CancellationToken(canceled: true);
                }

                return (_aborted ??= new CancellationTokenSource()).Token;
            }
        }
        set
        {
        }
    }

    void IHttpRequestLifetimeFeature.Abort()
    {
        if (!IsAborted)
        {
            Abort(resetByClient: false);
            _ = _connection.WriteRstStreamAsync(Id, Http2ErrorCode.InternalError).AsTask();
        }
    }

    // --- IHttpConnectionFeature ---

    public string ConnectionId
    {
        get => _connection.ConnectionId;
        set { }
    }

    public IPAddress? RemoteIpAddress
    {
        get => _connection.Control.RemoteEndPoint?.Address;
        set { }
    }

    public int RemotePort
    {
        get => _connection.Control.RemoteEndPoint?.Port ?? 0;
        set { }
    }

    public IPAddress? LocalIpAddress
    {
        get => _connection.LocalEndPoint?.Address;
        set { }
    }

    public int LocalPort
    {
        get => _connection.LocalEndPoint?.Port ?? 0;
        set { }
    }

    // --- the small ones ---

    public string TraceIdentifier
    {
        get => _traceIdentifier ??= $"{_connection.ConnectionId}:{Id:X8}";
        set => _traceIdentifier = value;
    }

    public bool CanHaveBody { get; }

    bool IHttpMaxRequestBodySizeFeature.IsReadOnly => true;

    long? IHttpMaxRequestBodySizeFeature.MaxRequestBodySize
    {
        get => _connection.Limits.MaxRequestBodySize;
        set => throw new InvalidOperationException("The body limit of requests inside Noise is fixed by the transport.");
    }
}
