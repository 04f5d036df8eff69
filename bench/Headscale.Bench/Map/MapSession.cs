using System.Buffers;
using System.Buffers.Binary;
using System.Diagnostics;
using System.Text.Json;
using Headscale.Protocol.Client;
using Headscale.Protocol.Keys;
using ZstdSharp;

namespace Headscale.Bench.Map;

/// <summary>
/// One simulated node: registered over ts2021 (HttpClient), then holding a zstd map long-poll on a
/// <see cref="LeanMapConnection"/> of its own, as a real client keeps one connection. The first (full) map is only
/// counted, never buffered or decompressed; later frames are decompressed only while a <see cref="FrameWatch"/> is
/// armed, so the generator spends its CPU on what is measured.
/// </summary>
internal sealed class MapSession : IAsyncDisposable
{
    private const int MaxFrameBytes = 64 * 1024 * 1024;
    private const string MapPath = "/machine/map";

    private readonly TaskCompletionSource _fullMap = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Ts2021ClientOptions _options;
    private readonly byte[] _lengthPrefix = new byte[4];
    private LeanMapConnection? _connection;
    private FrameWatch? _watch;
    private int _disposed;

    // The map frame being received across DATA frames: its length prefix, then its body (buffered only when offered).
    private int _prefixHave;
    private int _frameLength;
    private int _frameHave;
    private byte[]? _frameBody;

    public MapSession(Uri serverUrl, MachinePublicKey serverKey, string hostname, IReadOnlyList<string> routes)
    {
        Node = new ControlNode(serverUrl, serverKey, hostname) { AnnouncedRoutes = routes };
        _options = new Ts2021ClientOptions
        {
            ServerUrl = serverUrl,
            ServerKey = serverKey,
            MachineKey = Node.MachineKey,
            ProtocolVersion = Node.CapabilityVersion,
        };
    }

    /// <summary>The node's keys and name; its HttpClient connection is closed once it is registered.</summary>
    public ControlNode Node { get; }

    /// <summary>Completes when the first map frame has arrived; faults if the stream failed before.</summary>
    public Task FullMap => _fullMap.Task;

    public long FullMapBytes { get; private set; }

    public long FrameCount { get; private set; }

    public long ReceivedBytes { get; private set; }

    /// <summary>Why the stream stopped, if it did.</summary>
    public Exception? Error { get; private set; }

    /// <summary>
    /// Registers over the node's HttpClient, then closes that connection and dials the lean one the map will use, so the
    /// node keeps one connection from here on.
    /// </summary>
    public async Task RegisterAsync(string authKey, CancellationToken cancellationToken)
    {
        var result = await Node.RegisterAsync(authKey, cancellationToken);
        if (Node.Transport.Connection is { } connection)
        {
            await connection.DisposeAsync(); // asynchronously, so the HttpClient's disposal below has nothing to wait for
        }

        Node.Dispose();
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"registration of {Node.Hostname} failed: {(int)result.Status} {result.RawBody}");
        }

        _connection = await LeanMapConnection.ConnectAsync(_options, cancellationToken);
    }

    /// <summary>
    /// Sends the streaming map request and returns once its 200 head arrived; dials a new connection first if the one
    /// from registration has closed. A failed attempt drops its connection, so the next one dials anew.
    /// </summary>
    public async Task OpenAsync(CancellationToken cancellationToken)
    {
        if (_connection is null || _connection.IsClosed)
        {
            if (_connection is not null)
            {
                await _connection.DisposeAsync();
            }

            _connection = await LeanMapConnection.ConnectAsync(_options, cancellationToken);
        }

        try
        {
            await _connection.OpenStreamAsync(MapPath, MapRequestBody(stream: true, endpoint: null), OnMapData, OnMapEnd, cancellationToken);
        }
        catch (HttpRequestException e) when (e.StatusCode is not null)
        {
            throw new HttpRequestException($"{MapPath} for {Node.Hostname} {e.Message}", null, e.StatusCode);
        }
        catch (IOException)
        {
            await _connection.DisposeAsync();
            throw;
        }
    }

    /// <summary>
    /// A lite map update (<c>Stream: false</c>, <c>OmitPeers</c>) reporting <paramref name="endpoint"/>, as a client sends
    /// when its endpoints change; the Hostinfo is the one of the stream, so only the endpoints differ. It goes on the
    /// map's connection, as a real client's does.
    /// </summary>
    public async Task ReportEndpointAsync(string endpoint, CancellationToken cancellationToken)
    {
        var connection = _connection ?? throw new InvalidOperationException($"{Node.Hostname} has no open map connection");
        try
        {
            await connection.PostAsync(MapPath, MapRequestBody(stream: false, endpoint), cancellationToken);
        }
        catch (HttpRequestException e) when (e.StatusCode is not null)
        {
            throw new HttpRequestException($"lite map update of {Node.Hostname} {e.Message}", null, e.StatusCode);
        }
    }

    /// <summary>Arms <paramref name="watch"/>: every later frame is decompressed and offered to it until it matches.</summary>
    public void Arm(FrameWatch watch) => Volatile.Write(ref _watch, watch);

    /// <summary>The map stream ended (a real client would reconnect; the benchmark counts the session as lost).</summary>
    private void OnMapEnd(Exception e)
    {
        if (Volatile.Read(ref _disposed) != 0)
        {
            return;
        }

        Error = e is EndOfStreamException
            ? new EndOfStreamException($"{Node.Hostname}: the server ended the map stream after {FrameCount} frames")
            : e;
        _fullMap.TrySetException(Error);
        Volatile.Read(ref _watch)?.Fail();
    }

    /// <summary>
    /// Body bytes of the map stream, on the connection's read loop: 4-byte little-endian length, then the zstd frame.
    /// A frame within one piece is handled where it lies; one split across pieces is copied only if it will be offered.
    /// </summary>
    private void OnMapData(ReadOnlySequence<byte> data)
    {
        foreach (var segment in data)
        {
            var span = segment.Span;
            while (!span.IsEmpty)
            {
                if (_prefixHave < 4)
                {
                    if (_prefixHave == 0 && span.Length >= 4 && span.Length - 4 >= FrameLength(span))
                    {
                        var length = FrameLength(span);
                        OnFrame(span.Slice(4, length), length);
                        span = span[(4 + length)..];
                        continue;
                    }

                    var take = Math.Min(4 - _prefixHave, span.Length);
                    span[..take].CopyTo(_lengthPrefix.AsSpan(_prefixHave));
                    _prefixHave += take;
                    span = span[take..];
                    if (_prefixHave < 4)
                    {
                        return;
                    }

                    _frameLength = FrameLength(_lengthPrefix);
                    _frameHave = 0;
                    _frameBody = WantsNextFrame() ? ArrayPool<byte>.Shared.Rent(_frameLength) : null;
                }

                var chunk = Math.Min(_frameLength - _frameHave, span.Length);
                if (_frameBody is not null)
                {
                    span[..chunk].CopyTo(_frameBody.AsSpan(_frameHave));
                }

                _frameHave += chunk;
                span = span[chunk..];
                if (_frameHave == _frameLength)
                {
                    var body = _frameBody;
                    _frameBody = null;
                    _prefixHave = 0;
                    OnFrame(body is null ? [] : body.AsSpan(0, _frameLength), _frameLength);
                    if (body is not null)
                    {
                        ArrayPool<byte>.Shared.Return(body);
                    }
                }
            }
        }
    }

    private static int FrameLength(ReadOnlySpan<byte> prefix)
    {
        var length = BinaryPrimitives.ReadUInt32LittleEndian(prefix);
        return length <= MaxFrameBytes
            ? (int)length
            : throw new InvalidDataException($"map frame of {length} bytes is larger than {MaxFrameBytes}");
    }

    /// <summary>Whether the frame starting now may be offered to a watch: not the full map, and a watch still waiting for us.</summary>
    private bool WantsNextFrame() => FrameCount > 0 && Volatile.Read(ref _watch) is { } watch && !watch.HasMatched(this);

    /// <summary>One map frame of <paramref name="length"/> bytes; <paramref name="frame"/> is empty if it was skipped, not buffered.</summary>
    private void OnFrame(ReadOnlySpan<byte> frame, int length)
    {
        var arrived = Stopwatch.GetTimestamp();
        FrameCount++;
        ReceivedBytes += length + 4;
        if (FrameCount == 1)
        {
            FullMapBytes = length;
            _fullMap.TrySetResult();
            return;
        }

        var watch = Volatile.Read(ref _watch);
        if (length == 0 || frame.Length != length || watch is null || watch.HasMatched(this))
        {
            return;
        }

        var json = (t_decompressor ??= new Decompressor()).Unwrap(frame);
        watch.Offer(this, json, arrived);
    }

    /// <summary>One decompression context per thread: thousands of sessions decode the frame of one change at once.</summary>
    [ThreadStatic]
    private static Decompressor? t_decompressor;
    private ReadOnlyMemory<byte> MapRequestBody(bool stream, string? endpoint)
    {
        var body = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(body))
        {
            json.WriteStartObject();
            json.WriteNumber("Version", Node.CapabilityVersion);
            json.WriteString("NodeKey", Node.NodeKey);
            json.WriteString("DiscoKey", Node.DiscoKey);
            json.WriteBoolean("Stream", stream);
            json.WriteString("Compress", "zstd");
            json.WriteBoolean("OmitPeers", !stream);
            json.WriteStartArray("Endpoints");
            if (endpoint is not null)
            {
                json.WriteStringValue(endpoint);
            }

            json.WriteEndArray();
            json.WriteStartObject("Hostinfo");
            json.WriteString("IPNVersion", "1.86.2");
            json.WriteString("OS", "linux");
            json.WriteString("Hostname", Node.Hostname);
            if (Node.AnnouncedRoutes.Count > 0)
            {
                json.WriteStartArray("RoutableIPs");
                foreach (var route in Node.AnnouncedRoutes)
                {
                    json.WriteStringValue(route);
                }

                json.WriteEndArray();
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        return body.WrittenMemory;
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }

        Node.Dispose();
    }
}
