using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Net;
using System.Text.Json;
using Headscale.Protocol.Client;
using Headscale.Protocol.Keys;
using Headscale.Protocol.Tailcfg;
using ZstdSharp;

namespace Headscale.Bench.Map;

/// <summary>
/// One simulated node: registered over ts2021, then holding a zstd map long-poll. The first (full) map is only counted,
/// never decompressed; later frames are decompressed only while a <see cref="FrameWatch"/> is armed, so the client side
/// spends its CPU on what is measured.
/// </summary>
internal sealed class MapSession : IAsyncDisposable
{
    private readonly TaskCompletionSource _fullMap = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private HttpResponseMessage? _response;
    private PipeReader? _reader;
    private Task? _readLoop;
    private FrameWatch? _watch;

    public MapSession(Uri serverUrl, MachinePublicKey serverKey, string hostname, IReadOnlyList<string> routes)
    {
        Node = new ControlNode(serverUrl, serverKey, hostname, bufferPool: RetainingBufferPool.Instance) { AnnouncedRoutes = routes };
    }

    public ControlNode Node { get; }

    /// <summary>Completes when the first map frame has arrived; faults if the stream failed before.</summary>
    public Task FullMap => _fullMap.Task;

    public long FullMapBytes { get; private set; }

    public long FrameCount { get; private set; }

    public long ReceivedBytes { get; private set; }

    /// <summary>Why the stream stopped, if it did.</summary>
    public Exception? Error { get; private set; }

    public async Task RegisterAsync(string authKey, CancellationToken cancellationToken)
    {
        var result = await Node.RegisterAsync(authKey, cancellationToken);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"registration of {Node.Hostname} failed: {(int)result.Status} {result.RawBody}");
        }
    }

    /// <summary>Sends the streaming map request and starts reading frames in the background.</summary>
    public async Task OpenAsync(CancellationToken cancellationToken)
    {
        _response = await Node.Transport.PostJsonAsync("/machine/map", MapRequestBody(stream: true, endpoint: null), cancellationToken);
        if (_response.StatusCode != HttpStatusCode.OK)
        {
            var text = await _response.Content.ReadAsStringAsync(cancellationToken);
            throw new HttpRequestException($"/machine/map for {Node.Hostname} answered {(int)_response.StatusCode}: {text.Trim()}");
        }

        var body = await _response.Content.ReadAsStreamAsync(cancellationToken);
        _reader = PipeReader.Create(body, new StreamPipeReaderOptions(pool: RetainingBufferPool.Instance, bufferSize: 16 * 1024));
        _readLoop = Task.Run(ReadLoopAsync, CancellationToken.None);
    }

    /// <summary>
    /// A lite map update (<c>Stream: false</c>, <c>OmitPeers</c>) reporting <paramref name="endpoint"/>, as a client sends
    /// when its endpoints change; the Hostinfo is the one of the stream, so only the endpoints differ.
    /// </summary>
    public async Task ReportEndpointAsync(string endpoint, CancellationToken cancellationToken)
    {
        using var response = await Node.Transport.PostJsonAsync("/machine/map", MapRequestBody(stream: false, endpoint), cancellationToken);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            throw new HttpRequestException($"lite map update of {Node.Hostname} answered {(int)response.StatusCode}: {text.Trim()}");
        }
    }

    /// <summary>Arms <paramref name="watch"/>: every later frame is decompressed and offered to it until it matches.</summary>
    public void Arm(FrameWatch watch) => Volatile.Write(ref _watch, watch);

    private async Task ReadLoopAsync()
    {
        var reader = _reader!;
        try
        {
            while (true)
            {
                var result = await reader.ReadAsync();
                if (result.IsCanceled)
                {
                    return;
                }

                var buffer = result.Buffer;
                while (MapFrameCodec.TryTakeFrame(ref buffer, out var frame))
                {
                    OnFrame(frame);
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
                if (result.IsCompleted)
                {
                    // A real client would reconnect; the benchmark counts the session as lost instead.
                    Error = new EndOfStreamException($"{Node.Hostname}: the server ended the map stream after {FrameCount} frames");
                    _fullMap.TrySetException(Error);
                    Volatile.Read(ref _watch)?.Fail();
                    return;
                }
            }
        }
        catch (Exception e)
        {
            // Any failure ends this session's stream; it is recorded and reported, never thrown on the pool.
            Error = e;
            _fullMap.TrySetException(e);
            Volatile.Read(ref _watch)?.Fail();
        }
    }

    /// <summary>One decompression context per thread: thousands of sessions decode the frame of one change at once.</summary>
    [ThreadStatic]
    private static Decompressor? t_decompressor;

    private void OnFrame(ReadOnlySequence<byte> frame)
    {
        var arrived = Stopwatch.GetTimestamp();
        FrameCount++;
        ReceivedBytes += frame.Length + 4;
        if (FrameCount == 1)
        {
            FullMapBytes = frame.Length;
            _fullMap.TrySetResult();
            return;
        }

        var watch = Volatile.Read(ref _watch);
        if (watch is null || watch.HasMatched(this))
        {
            return;
        }

        var compressed = ArrayPool<byte>.Shared.Rent((int)frame.Length);
        try
        {
            frame.CopyTo(compressed);
            var json = (t_decompressor ??= new Decompressor()).Unwrap(compressed.AsSpan(0, (int)frame.Length));
            watch.Offer(this, json, arrived);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(compressed);
        }
    }

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
        if (_reader is not null)
        {
            _reader.CancelPendingRead();
            if (_readLoop is not null)
            {
                await _readLoop.ConfigureAwait(false);
            }

            await _reader.CompleteAsync();
        }

        _response?.Dispose();
        Node.Dispose();
    }
}
