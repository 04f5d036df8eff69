using System.Threading.Channels;
using Akka.Actor;
using Akka.Event;
using Headscale.Actors.Observability;
using Headscale.Protocol.Tailcfg;
using static Headscale.Actors.NetworkMap.NetworkMapCommands;

namespace Headscale.Actors.NetworkMap;

/// <summary>Thrown into the frame channel when a session must end without a normal completion.</summary>
public sealed class MapSessionEndedException(string reason, bool nodeMissing) : Exception(reason)
{
    /// <summary>True when the node is not in the map: the HTTP handler answers 404 if nothing was sent yet.</summary>
    public bool NodeMissing { get; } = nodeMissing;
}

/// <summary>
/// One live <c>/machine/map</c> stream. It subscribes to the host's network map and writes frames to
/// a bounded channel that the HTTP handler drains (bytes never travel through a mailbox chunk by chunk).
/// <list type="bullet">
/// <item>The first message is the full map (a <see cref="MapResponse"/>, encoded here from peer chunks compressed once
/// for all sessions, <see cref="MapFrameCodec.EncodeFullMap"/>); every later one is a shared <see cref="MapDelta"/>,
/// whose frame is encoded once for all sessions that get it.</item>
/// <item>Deltas go out as they arrive: the network map already batches a burst into one delta per viewer
/// and flush window (<see cref="NetworkMapActor"/>).</item>
/// <item>When the client still falls behind and the channel is full, the session stops queueing deltas
/// (they would only pile up) and, once the channel has room again, asks the map for a fresh full map,
/// which supersedes everything it skipped.</item>
/// </list>
/// It owns the keep-alive timer.
/// </summary>
public sealed class MapSessionActor : ReceiveActor
{
    private readonly long _nodeId;
    private readonly IActorRef _networkMap;
    private readonly ChannelWriter<MapFrame> _output;
    private readonly bool _zstd;
    private readonly Func<TimeSpan> _keepAliveInterval;
    private bool _sentFull;
    private bool _behind;
    private long _lastWriteTicks;
    private TimeSpan _armedInterval;
    private bool _keepAliveArmed;

    // Made on first use: most of these actors never log, and a logger holds its own copy of the actor's path.
    private ILoggingAdapter? _logger;

    private ILoggingAdapter Logger => _logger ??= Context.GetLogger();

    /// <summary>A session in a compact mailbox (<see cref="Dispatch.CompactMailboxes"/>, defined by <c>WithNetworkMap</c>): one per connected node, idle between changes.</summary>
    public static Props Props(long nodeId, IActorRef networkMap, ChannelWriter<MapFrame> output, bool zstd, Func<TimeSpan> keepAliveInterval) =>
        Akka.Actor.Props.Create(() => new MapSessionActor(nodeId, networkMap, output, zstd, keepAliveInterval)).WithMailbox(Dispatch.CompactMailboxes.Unbounded);

    public MapSessionActor(long nodeId, IActorRef networkMap, ChannelWriter<MapFrame> output, bool zstd, Func<TimeSpan> keepAliveInterval)
    {
        _nodeId = nodeId;
        _networkMap = networkMap;
        _output = output;
        _zstd = zstd;
        _keepAliveInterval = keepAliveInterval;

        // The network map answers a subscription with the full map; it supersedes every delta before it.
        Receive<MapResponse>(full =>
        {
            if (!_behind)
            {
                Write(MapFrameCodec.EncodeFullMap(full, _zstd), HeadscaleMetrics.MapResponseKind.Full);
                _sentFull = true;
            }
        });
        Receive<MapDelta>(delta =>
        {
            // Before the full map (a resync under way) a delta is already part of the full map that follows.
            if (!_behind && _sentFull)
            {
                Write(delta.Frame(_zstd), HeadscaleMetrics.MapResponseKind.Delta);
            }
        });
        Receive<KeepAliveTick>(_ =>
        {
            _keepAliveArmed = false;
            if (_behind)
            {
                return;
            }

            // The timer is armed once per keep-alive interval, not per frame: if a frame went out since, wait the rest.
            var quiet = TimeSpan.FromMilliseconds(Environment.TickCount64 - _lastWriteTicks);
            if (quiet < _armedInterval)
            {
                ArmKeepAlive(_armedInterval - quiet);
                return;
            }

            Write(MapFrameCodec.Encode(MapResponse.KeepAliveMessage with { ControlTime = DateTimeOffset.UtcNow }, _zstd), HeadscaleMetrics.MapResponseKind.KeepAlive);
        });
        Receive<CanWrite>(ready =>
        {
            if (!ready.Open)
            {
                Context.Stop(Self);
                return;
            }

            // The answer to a subscription is a full map, which replaces the client's view entirely.
            _behind = false;
            _sentFull = false;
            _networkMap.Tell(new Subscribe(_nodeId, Self));
        });
        Receive<MapRestarting>(_ =>
        {
            // The restarted map has forgotten this session; its next full map replaces the client's view. A session
            // that is behind subscribes again once its client reads.
            if (!_behind)
            {
                _sentFull = false;
                _networkMap.Tell(new Subscribe(_nodeId, Self));
            }
        });
        Receive<SubscribeRejected>(r =>
        {
            _output.TryComplete(new MapSessionEndedException(r.Reason, nodeMissing: true));
            Context.Stop(Self);
        });
    }

    /// <summary>Headscale's interval: 50 s plus up to 9 s of jitter, far below the client's 120 s watchdog.</summary>
    public static TimeSpan DefaultKeepAliveInterval() => TimeSpan.FromSeconds(50 + Random.Shared.Next(0, 10));

    protected override void PreStart()
    {
        HeadscaleMetrics.MapSessions.Add(1);
        _networkMap.Tell(new Subscribe(_nodeId, Self));
    }

    protected override void PostStop()
    {
        HeadscaleMetrics.MapSessions.Add(-1);
        _networkMap.Tell(new Unsubscribe(_nodeId, Self));
        _output.TryComplete();
    }

    private void Write(MapFrame frame, string kind)
    {
        var delivered = _output.TryWrite(frame);
        HeadscaleMetrics.RecordMapResponse(kind, frame.Length, delivered);
        if (!delivered)
        {
            Logger.Info("map session of node {NodeId} fell behind; it skips deltas until the client drains its stream, then gets a full map", _nodeId);
            _behind = true;
            _output.WaitToWriteAsync().AsTask().PipeTo(Self, success: open => new CanWrite(open), failure: _ => new CanWrite(false));
            return;
        }

        _lastWriteTicks = Environment.TickCount64;
        if (!_keepAliveArmed)
        {
            _armedInterval = _keepAliveInterval();
            ArmKeepAlive(_armedInterval);
        }
    }

    /// <summary>
    /// One tell from the system's scheduler, never cancelled: a tick that finds a frame was written since waits the
    /// rest, and one that outlives the session is a suppressed dead letter. Actor timers would keep a timer table, a
    /// timer, its message and a cancellation source per session (about 0.4 KiB) for no more than that.
    /// </summary>
    private void ArmKeepAlive(TimeSpan delay)
    {
        _keepAliveArmed = true;
        // AK1004 warns of repeating or long-lived schedules left running after the actor stops; this one fires once,
        // within one keep-alive interval, and its message is dropped without a dead-letter log after the stop.
#pragma warning disable AK1004
        Context.System.Scheduler.ScheduleTellOnce(delay, Self, KeepAliveTick.Instance, ActorRefs.NoSender);
#pragma warning restore AK1004
    }

    /// <summary>The channel has room again (or was closed: the client went away).</summary>
    private sealed record CanWrite(bool Open) : INoSerializationVerificationNeeded, IDeadLetterSuppression;

    private sealed record KeepAliveTick : INoSerializationVerificationNeeded, IDeadLetterSuppression, INotInfluenceReceiveTimeout
    {
        public static readonly KeepAliveTick Instance = new();
    }
}
