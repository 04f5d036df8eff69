using System.Buffers;
using System.Collections.Immutable;
using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using Headscale.Actors.NetworkMap;
using Headscale.Protocol.Tailcfg;

namespace Headscale.Api.ControlPlane;

/// <summary>
/// <c>POST /machine/map</c> inside the Noise channel: streaming polls become a
/// <see cref="MapSessionActor"/> whose frames are copied to the response; lite updates
/// (<c>Stream: false</c>) store what the client reports and answer 200.
/// </summary>
public static partial class MapEndpoint
{
    /// <summary>Headscale 0.27's lowest supported capability version (Tailscale v1.64).</summary>
    public const int MinimumCapabilityVersion = 90;

    /// <summary>Largest MapRequest body accepted.</summary>
    public const int MaxRequestBytes = 1024 * 1024;

    /// <summary>A frame larger than this (a full map) is flushed in slices of about this size: see <see cref="MapFrame.WriteToAsync"/>.</summary>
    public const int FlushEveryBytes = 64 * 1024;

    /// <summary>Maps the endpoint; <paramref name="machineKeyOf"/> reads the Noise-authenticated machine key of the request.</summary>
    public static IEndpointConventionBuilder MapMachineMap(this IEndpointRouteBuilder endpoints, Func<HttpContext, string?> machineKeyOf) =>
        endpoints.MapPost("/machine/map", (HttpContext context, IMapNodeDirectory nodes, IRequiredActor<NetworkMapRegistryKey> map, MapSessionOptions options, ILoggerFactory logs) =>
            HandleAsync(context, machineKeyOf, nodes, map, options, logs.CreateLogger("Headscale.MapEndpoint")));

    private static async Task HandleAsync(HttpContext context, Func<HttpContext, string?> machineKeyOf, IMapNodeDirectory nodes,
        IRequiredActor<NetworkMapRegistryKey> networkMap, MapSessionOptions options, ILogger log)
    {
        // The request, its Hostinfo and endpoints are done with once accepted: a streaming poll lives for hours, and only
        // what the stream needs stays referenced from its frames.
        if (await AcceptAsync(context, machineKeyOf, nodes) is { } poll)
        {
            await StreamAsync(context, poll, networkMap, options, log);
        }
    }

    /// <summary>What a stream needs of its accepted request.</summary>
    private readonly record struct AcceptedPoll(long NodeId, bool Stream, bool WantsZstd);

    /// <summary>Validates the request and stores what it reports; null when the response has been given already.</summary>
    private static async Task<AcceptedPoll?> AcceptAsync(HttpContext context, Func<HttpContext, string?> machineKeyOf, IMapNodeDirectory nodes)
    {
        var aborted = context.RequestAborted;
        var machineKey = machineKeyOf(context);
        if (machineKey is null)
        {
            await Problem(context, StatusCodes.Status401Unauthorized, "no authenticated machine key on this connection");
            return null;
        }

        var (request, error) = await ReadRequestAsync(context.Request, aborted);
        if (request is null)
        {
            await Problem(context, StatusCodes.Status400BadRequest, error!);
            return null;
        }

        if (request.Version < MinimumCapabilityVersion)
        {
            await Problem(context, StatusCodes.Status400BadRequest, $"unsupported client version: capability {request.Version} (need {MinimumCapabilityVersion} or newer)");
            return null;
        }

        if (request.NodeKey is null || !IsKeyText(request.NodeKey, "nodekey:"))
        {
            await Problem(context, StatusCodes.Status400BadRequest, "NodeKey must be nodekey: followed by 64 hex digits");
            return null;
        }

        if (request.DiscoKey is not null && request.DiscoKey.Length > 0 && !IsKeyText(request.DiscoKey, "discokey:"))
        {
            await Problem(context, StatusCodes.Status400BadRequest, "DiscoKey must be discokey: followed by 64 hex digits");
            return null;
        }

        if (!HostinfoSummary.TryParse(request.Hostinfo, out var hostinfo, out var hostinfoError))
        {
            await Problem(context, StatusCodes.Status400BadRequest, hostinfoError!);
            return null;
        }

        var nodeId = await nodes.FindNodeAsync(machineKey, request.NodeKey, aborted);
        if (nodeId is null)
        {
            await Problem(context, StatusCodes.Status404NotFound, "node not found");
            return null;
        }

        var endpoints = request.Endpoints?.ToImmutableArray() ?? [];
        // Every request reports: a streaming poll carries the client's current Hostinfo, endpoints and disco key too
        // (stored only when they changed), and a lite update (Stream=false) exists for nothing else.
        await nodes.ReportAsync(nodeId.Value, request.Hostinfo is null ? null : hostinfo, endpoints, request.DiscoKey, aborted);
        if (!request.Stream && request.OmitPeers)
        {
            context.Response.StatusCode = StatusCodes.Status200OK;
            return null;
        }

        return new AcceptedPoll(nodeId.Value, request.Stream, request.WantsZstd);
    }

    private static async Task StreamAsync(HttpContext context, AcceptedPoll poll, IRequiredActor<NetworkMapRegistryKey> networkMap, MapSessionOptions options, ILogger log)
    {
        var aborted = context.RequestAborted;
        var nodeId = poll.NodeId;
        var queue = new MapFrameQueue(options.BufferedFrames);
        // One registration for the stream's life rather than one per wait (an idle stream waits for hours).
        using var cancel = aborted.UnsafeRegister(static (state, token) => ((MapFrameQueue)state!).CancelReader(token), queue);
        var map = await networkMap.GetAsync(aborted);
        var system = context.RequestServices.GetRequiredService<ActorSystem>();
        var session = system.ActorOf(MapSessionActor.Props(nodeId, map, queue, poll.WantsZstd, options.KeepAliveInterval));
        var started = false;
        try
        {
            while (await queue.WaitToReadAsync())
            {
                if (!started)
                {
                    context.Response.StatusCode = StatusCodes.Status200OK;
                    context.Response.ContentType = "application/json";
                    started = true;
                }

                var body = context.Response.BodyWriter;
                // Everything already queued goes out with one flush: the batching of the stream. The last, failed read
                // clears the frame, so an idle stream holds none.
                while (queue.TryRead(out var frame))
                {
                    await frame.WriteToAsync(body, FlushEveryBytes, aborted);
                }

                await body.FlushAsync(aborted);
                if (!poll.Stream)
                {
                    break;
                }
            }
        }
        catch (MapSessionEndedException ended) when (ended.NodeMissing && !started)
        {
            await Problem(context, StatusCodes.Status404NotFound, ended.Message);
        }
        catch (MapSessionEndedException ended)
        {
            LogSessionEnded(log, nodeId, ended.Message);
        }
        catch (OperationCanceledException) when (aborted.IsCancellationRequested)
        {
            // The client went away; the session stops below.
        }
        finally
        {
            session.Tell(PoisonPill.Instance);
        }
    }

    private static async Task<(MapRequest? Request, string? Error)> ReadRequestAsync(HttpRequest http, CancellationToken cancellationToken)
    {
        if (http.ContentLength > MaxRequestBytes)
        {
            return (null, $"request body is larger than {MaxRequestBytes} bytes");
        }

        // Read through the body stream into a pooled buffer, not through BodyReader: that would make the request keep a
        // stream pipe reader (and its cancellation source) for as long as a streaming poll stays open.
        var buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(http.ContentLength ?? 4096, MaxRequestBytes) + 1);
        try
        {
            var length = 0;
            int read;
            while ((read = await http.Body.ReadAsync(buffer.AsMemory(length), cancellationToken)) > 0)
            {
                length += read;
                if (length > MaxRequestBytes)
                {
                    return (null, $"request body is larger than {MaxRequestBytes} bytes");
                }

                if (length == buffer.Length)
                {
                    var grown = ArrayPool<byte>.Shared.Rent(Math.Min(buffer.Length * 2, MaxRequestBytes + 1));
                    buffer.AsSpan(0, length).CopyTo(grown);
                    ArrayPool<byte>.Shared.Return(buffer);
                    buffer = grown;
                }
            }

            try
            {
                var request = JsonSerializer.Deserialize(buffer.AsSpan(0, length), TailcfgJsonContext.Default.MapRequest);
                return request is null ? (null, "request body must be a JSON MapRequest object") : (request, null);
            }
            catch (JsonException e)
            {
                return (null, $"request body is not a valid MapRequest: {e.Message}");
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static bool IsKeyText(string text, string prefix) =>
        text.Length == prefix.Length + 64
        && text.StartsWith(prefix, StringComparison.Ordinal)
        && text.AsSpan(prefix.Length).ContainsAnyExcept("0123456789abcdefABCDEF") is false;

    private static Task Problem(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(message + "\n", context.RequestAborted);
    }

    [LoggerMessage(EventId = 2100, Level = LogLevel.Information, Message = "map stream of node {NodeId} ended: {Reason}")]
    private static partial void LogSessionEnded(ILogger logger, long nodeId, string reason);
}

/// <summary>Per-session tuning: buffered frames before a slow client resyncs, keep-alive interval, coalescing window of deltas.</summary>
public sealed record MapSessionOptions(int BufferedFrames, Func<TimeSpan> KeepAliveInterval);
