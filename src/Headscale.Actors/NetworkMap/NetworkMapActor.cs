using Akka.Actor;
using Akka.Event;
using Headscale.Actors.Nodes;
using Headscale.Actors.Observability;
using Headscale.Protocol.Tailcfg;
using static Headscale.Actors.NetworkMap.NetworkMapCommands;
using static Headscale.Actors.Nodes.Messages.NodeCommands;

namespace Headscale.Actors.NetworkMap;

/// <summary>
/// One per host: owns the <see cref="NetworkMapState"/> and fans each change out to the local
/// map sessions of the viewers it affects. Online status follows the sessions of every host: a node
/// is online while it has a stream here or on another host, and goes offline <see cref="OfflineGrace"/>
/// after the last one ends (clients reconnect briefly on network changes; peers should not see that
/// as flapping). Each host publishes the edges of its own streams (<see cref="OnlineNotifications"/>)
/// once the first starts and once the grace after the last has passed; the marks of a host that
/// leaves the cluster are dropped (<see cref="OriginLeft"/>).
/// The node entity learns both edges (<see cref="NodeConnected"/> on the first stream anywhere,
/// <see cref="NodeDisconnected"/> once offline everywhere) so it records last-seen and runs ephemeral cleanup.
/// What is persisted comes in as <see cref="NodeUpdated"/>; what lives only here (online, endpoints,
/// home DERP) is kept across those updates.
/// </summary>
public sealed class NetworkMapActor : ReceiveActor, IWithTimers
{
    public static readonly TimeSpan OfflineGrace = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long a subscription for a node this map does not know yet waits for it. The feed is
    /// asynchronous: a client that maps right after its registration succeeded can be faster
    /// than the registration's event reaching this host.
    /// </summary>
    public static readonly TimeSpan UnknownNodeWait = TimeSpan.FromSeconds(10);

    /// <summary>
    /// How long after a node joins or is deleted the policy is compiled again (joins and deletions within
    /// it share one compile). A new node stays invisible to policy-judged peers until then, which fails
    /// closed; changed tags, addresses, owner or routes of a known node are compiled at once.
    /// </summary>
    public static readonly TimeSpan RecompileDelay = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// Default least time between two flushes to the sessions: short against the 50 ms target for one change,
    /// long enough to fold a burst into one message per viewer.
    /// </summary>
    public static readonly TimeSpan DefaultFlushWindow = TimeSpan.FromMilliseconds(20);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly NetworkMapState _state;
    private readonly TimeProvider _time;
    private readonly TimeSpan _offlineGrace;
    private readonly Dictionary<long, HashSet<IActorRef>> _sessions = new();
    private readonly string _controlUrl;
    private readonly IActorRef? _presence;
    private readonly Func<MapSettings>? _settingsSource;
    private readonly Dictionary<long, List<Subscribe>> _awaitingNode = new();
    private readonly TimeSpan _unknownNodeWait;
    private readonly TimeSpan _recompileDelay;
    private bool _recompileDue;
    private readonly TimeSpan _flushWindow;
    private bool _flushDue;
    private long _nextFlushAt;
    private long _policyCompiles;
    private readonly Action<object> _publishOnline;
    private readonly string _origin;

    /// <summary>Per node, the other hosts that reported a stream of it.</summary>
    private readonly Dictionary<long, HashSet<string>> _remoteOnline = new();

    /// <summary>Nodes this host has published as online and not yet as offline (a stream here, or within the grace after it).</summary>
    private readonly HashSet<long> _announced = new();

    /// <summary>The newest <see cref="OnlineNotifications"/> sequence applied per origin.</summary>
    private readonly Dictionary<string, long> _originSequence = new();

    /// <summary>
    /// Starts at the clock, not at zero: a map restarted by its supervisor keeps its host's origin, and
    /// other hosts would ignore every report numbered below the ones its previous incarnation sent.
    /// </summary>
    private long _sequence = DateTimeOffset.UtcNow.UtcTicks;
    private Headscale.Policy.ParsedPolicy? _policy;
    private DateTimeOffset? _armedExpiry;

    private static readonly TimeSpan MaxExpiryTimer = TimeSpan.FromHours(1);

    /// <param name="presence">Where <see cref="NodeConnected"/>/<see cref="NodeDisconnected"/> go (the node shard region); null to tell nobody.</param>
    /// <param name="settingsSource">Read before each full map, so a refreshed DERP map reaches new sessions; null keeps <paramref name="settings"/>.</param>
    /// <param name="unknownNodeWait">How long a subscription waits for a node the map does not know yet; <see cref="UnknownNodeWait"/> by default.</param>
    /// <param name="publishOnline">Where this host's <see cref="OnlineNotifications"/> go; the cluster topic by default.</param>
    /// <param name="recompileDelay">How long joins and deletions gather before the policy is compiled again; <see cref="RecompileDelay"/> by default, zero compiles at once.</param>
    /// <param name="flushWindow">Least time between two flushes of changes to the sessions (<see cref="DefaultFlushWindow"/> by default); zero flushes once the queued messages are applied.</param>
    public NetworkMapActor(
        MapSettings settings,
        ITailnetPolicy policy,
        TimeProvider time,
        TimeSpan? offlineGrace = null,
        string controlUrl = "",
        IActorRef? presence = null,
        Func<MapSettings>? settingsSource = null,
        TimeSpan? unknownNodeWait = null,
        Action<object>? publishOnline = null,
        TimeSpan? recompileDelay = null,
        TimeSpan? flushWindow = null)
    {
        _flushWindow = flushWindow ?? DefaultFlushWindow;
        if (_flushWindow < TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(flushWindow), flushWindow, "the flush window cannot be negative");
        }

        _state = new NetworkMapState(settings, policy);
        _controlUrl = controlUrl;
        _time = time;
        _offlineGrace = offlineGrace ?? OfflineGrace;
        _presence = presence;
        _settingsSource = settingsSource;
        _unknownNodeWait = unknownNodeWait ?? UnknownNodeWait;
        _recompileDelay = recompileDelay ?? RecompileDelay;
        var system = Context.System;
        _publishOnline = publishOnline ?? (message => Registration.ClusterNotifications.Publish(system, OnlineNotifications.Topic, message));
        _origin = EndpointNotifications.OriginOf(system);

        Receive<Subscribe>(OnSubscribe);
        Receive<Unsubscribe>(u => Detach(u.NodeId, u.Session));
        Receive<Terminated>(t =>
        {
            foreach (var (nodeId, sessions) in _sessions.Where(s => s.Value.Contains(t.ActorRef)).ToList())
            {
                Detach(nodeId, t.ActorRef);
            }
        });
        Receive<GoOffline>(g => OnGraceOver(g.NodeId));
        Receive<OnlineNotifications.OnlineReported>(r =>
        {
            if (!IsNewFromOther(r.Origin, r.Sequence))
            {
                return;
            }

            if (r.Online)
            {
                MarkRemote(r.NodeId, r.Origin);
            }
            else
            {
                UnmarkRemote(r.NodeId, r.Origin, tellEntity: !r.LastStream);
            }
        });
        Receive<OnlineNotifications.OnlineSnapshot>(OnSnapshot);
        Receive<OnlineNotifications.OnlineSnapshotRequested>(_ => Sender.Tell(Snapshot()));
        Receive<PublishOnlineSnapshot>(_ => _publishOnline(Snapshot()));
        Receive<OriginLeft>(left => OnOriginLeft(left.Origin));
        ReceiveApplied<NodeUpdated>(u =>
        {
            var view = KeepLiveState(u.View);
            var previous = _state.Get(view.Id);
            if (previous is not null && !CompiledTailnetPolicy.SameInputs(previous, view))
            {
                // Tags, addresses, owner or routes of a known node change who may see it: judge it by the new ones at once.
                Recompile(_state.Nodes.Where(n => n.Id != view.Id).Append(view));
            }

            _state.Upsert(view, Now);
            if (previous is null)
            {
                // The compiled policy does not know a new node, so nobody sees it until the next compile; joins in a burst share one.
                ScheduleRecompile();
            }

            SubscribeAwaiting(view.Id);
        });
        ReceiveApplied<RecompileDue>(_ =>
        {
            _recompileDue = false;
            Recompile(_state.Nodes);
        });
        ReceiveApplied<NodesLoaded>(loaded =>
        {
            foreach (var view in loaded.Views)
            {
                _state.Upsert(KeepLiveState(view), Now);
            }

            Recompile(_state.Nodes);
            _log.Info("network map loaded {NodeCount} nodes", loaded.Views.Length);
            foreach (var nodeId in _awaitingNode.Keys.Where(id => _state.Get(id) is not null).ToList())
            {
                SubscribeAwaiting(nodeId);
            }
        });
        Receive<GetNodeStatus>(q => Sender.Tell(new NodeStatusList([.. q.NodeIds
            .Select(_state.Get)
            .OfType<PeerView>()
            .Select(n => new NodeStatus(n.Id, n.Online, [.. _state.PrimaryRoutesOf(n.Id)], [.. n.ServedRoutes.Where(PeerView.IsExitRoute)]))])));
        ReceiveApplied<NodeRemoved>(r =>
        {
            // Removal reaches every viewer without the policy; the filters that named its addresses follow with the next compile.
            _state.Remove(r.NodeId);
            ScheduleRecompile();
            // Every host deletes it from its map: nothing to publish.
            _remoteOnline.Remove(r.NodeId);
            _announced.Remove(r.NodeId);
            RejectAwaiting(r.NodeId, "node was deleted");
            if (_sessions.Remove(r.NodeId, out var sessions))
            {
                foreach (var session in sessions)
                {
                    session.Tell(new SubscribeRejected(r.NodeId, "node was deleted"));
                }
            }
        });
        ReceiveApplied<EndpointsUpdated>(u => _state.UpdateEndpoints(u.NodeId, u.Endpoints, u.DiscoKey, u.HomeDerp));
        ReceiveApplied<PolicyUpdated>(p =>
        {
            _policy = p.Policy;
            if (_policy is null)
            {
                Dispatch(_state.SetPolicy(AllowAllPolicy.Instance, Now));
            }
            else
            {
                Recompile(_state.Nodes);
            }
        });
        ReceiveApplied<RefreshSettings>(_ =>
        {
            if (_settingsSource is not null)
            {
                Dispatch(_state.ReplaceSettings(_settingsSource(), Now));
            }
        });
        ReceiveApplied<ExpiryDue>(_ =>
        {
            _armedExpiry = null;
            _state.ExpireDue(Now);
        });
        ReceiveApplied<FlushDue>(_ =>
        {
            _flushDue = false;
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            Dispatch(_state.Flush(Now));
            // A flush that took longer than the window (thousands of sessions) spaces the next one as far:
            // under a storm the batches grow instead of the map doing nothing but flush. No window: no spacing.
            var took = System.Diagnostics.Stopwatch.GetElapsedTime(started);
            var spacing = _flushWindow == TimeSpan.Zero ? TimeSpan.Zero : took > _flushWindow ? took : _flushWindow;
            _nextFlushAt = System.Diagnostics.Stopwatch.GetTimestamp() + (long)(spacing.TotalSeconds * System.Diagnostics.Stopwatch.Frequency);
        });
        Receive<UnknownNodeWaitOver>(over => RejectAwaiting(over.NodeId, "node not found"));
        Receive<GetStatistics>(_ => Sender.Tell(new MapStatistics(_state.NodeCount, _state.ViewerCount, _sessions.Values.Sum(s => s.Count), _policyCompiles)));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    private DateTimeOffset Now => _time.GetUtcNow();

    /// <summary>
    /// A failure restarts the map with an empty state (its supervisor's default). Its sessions would wait for deltas
    /// that never come, so each is told to subscribe again; the new instance asks the feed for everything (PostRestart).
    /// </summary>
    protected override void PreRestart(Exception reason, object message)
    {
        // The supervisor logs the failure itself; this says what the map does about it.
        _log.Info("network map restarting after a failure on {MessageType}; it reloads the tailnet from the feed and resubscribes {SessionCount} sessions",
            message?.GetType().Name ?? "unknown message", _sessions.Values.Sum(s => s.Count));
        foreach (var session in _sessions.Values.SelectMany(s => s))
        {
            session.Tell(MapRestarting.Instance);
        }

        foreach (var waiting in _awaitingNode.Values.SelectMany(w => w))
        {
            waiting.Session.Tell(MapRestarting.Instance);
        }

        base.PreRestart(reason, message);
    }

    protected override void PostRestart(Exception reason)
    {
        base.PostRestart(reason);
        Context.System.EventStream.Publish(new NetworkMapRestarted(Self));
    }

    private void OnSubscribe(Subscribe subscribe)
    {
        if (_state.Get(subscribe.NodeId) is null)
        {
            if (!_awaitingNode.TryGetValue(subscribe.NodeId, out var waiting))
            {
                _awaitingNode[subscribe.NodeId] = waiting = [];
                Timers.StartSingleTimer(new UnknownNodeWaitOver(subscribe.NodeId), new UnknownNodeWaitOver(subscribe.NodeId), _unknownNodeWait);
            }

            waiting.Add(subscribe);
            return;
        }

        Timers.Cancel(subscribe.NodeId);
        var wasOnline = _sessions.ContainsKey(subscribe.NodeId);
        if (!wasOnline)
        {
            _sessions[subscribe.NodeId] = [];
            var peersSawOffline = _state.Get(subscribe.NodeId) is { Online: false };
            _state.SetOnline(subscribe.NodeId, online: true, Now);
            if (peersSawOffline)
            {
                // A reconnect within the grace period never went offline, and a node streaming to
                // another host is online already: the entity was told or needs no telling.
                _presence?.Tell(new NodeConnected(new NodeId((ulong)subscribe.NodeId), Now));
            }

            if (_announced.Add(subscribe.NodeId))
            {
                _publishOnline(new OnlineNotifications.OnlineReported(subscribe.NodeId, true, false, _origin, ++_sequence));
            }
        }

        if (_settingsSource is not null)
        {
            _state.Settings = _settingsSource();
        }

        if (wasOnline && _state.HasPending)
        {
            // Another session of the node starts its view afresh: its other sessions must first be told what is pending.
            Dispatch(_state.Flush(Now));
        }

        _sessions[subscribe.NodeId].Add(subscribe.Session);
        Context.Watch(subscribe.Session);
        subscribe.Session.Tell(_state.Subscribe(subscribe.NodeId, Now));
        ScheduleFlush();
    }

    /// <summary>Online, endpoints and home DERP are not in the entity's state: a new view of a known node keeps them.</summary>
    private PeerView KeepLiveState(PeerView view)
    {
        if (_state.Get(view.Id) is not { } known)
        {
            // New to this map, but maybe streaming to another host already.
            return _remoteOnline.ContainsKey(view.Id) ? view with { Online = true } : view;
        }

        return view with
        {
            Online = known.Online,
            Endpoints = known.Endpoints,
            HomeDerp = known.HomeDerp != 0 ? known.HomeDerp : view.HomeDerp,
            DiscoKey = view.DiscoKey ?? known.DiscoKey,
            LastSeen = known.Online ? known.LastSeen : Later(view.LastSeen, known.LastSeen),
        };
    }

    private static DateTimeOffset? Later(DateTimeOffset? a, DateTimeOffset? b) =>
        a is null ? b : b is null ? a : a > b ? a : b;

    /// <summary>
    /// The compiled policy depends on the node set (aliases resolve to addresses), so a change of what
    /// it reads (<see cref="CompiledTailnetPolicy.SameInputs"/>) recompiles it and viewers get their
    /// visibility and filter differences. Hostinfo, endpoint, online and expiry changes do not.
    /// </summary>
    private void Recompile(IEnumerable<PeerView> nodes)
    {
        if (_recompileDue)
        {
            // This compile covers every node the scheduled one would have.
            _recompileDue = false;
            Timers.Cancel(RecompileDue.Instance);
        }

        if (_policy is not null)
        {
            var started = System.Diagnostics.Stopwatch.GetTimestamp();
            var compiled = CompiledTailnetPolicy.Compile(_policy, nodes.ToList(), _controlUrl);
            _policyCompiles++;
            HeadscaleMetrics.PolicyCompileDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
            Dispatch(_state.SetPolicy(compiled, Now));
        }
    }

    /// <summary>
    /// Compiles the policy after <see cref="_recompileDelay"/> unless a compile is already due: a join
    /// storm costs one compile per delay, not one per node. Without a policy there is nothing to compile.
    /// </summary>
    private void ScheduleRecompile()
    {
        if (_policy is null || _recompileDue)
        {
            return;
        }

        if (_recompileDelay <= TimeSpan.Zero)
        {
            Recompile(_state.Nodes);
            return;
        }

        _recompileDue = true;
        Timers.StartSingleTimer(RecompileDue.Instance, RecompileDue.Instance, _recompileDelay);
    }

    /// <summary>A change to the map, timed from receipt until every affected session has been told.</summary>
    private void ReceiveApplied<T>(Action<T> apply) => Receive<T>(message =>
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        apply(message);
        ScheduleFlush();
        ArmExpiryTimer();
        HeadscaleMetrics.NetworkMapApplyDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds);
    });

    /// <summary>
    /// Tells the sessions what changed once the window since the last flush has passed: at once (after the
    /// messages already queued, which join the batch) when the map was quiet, otherwise when the window ends.
    /// </summary>
    private void ScheduleFlush()
    {
        if (_flushDue || !_state.HasPending)
        {
            return;
        }

        _flushDue = true;
        var wait = _nextFlushAt - System.Diagnostics.Stopwatch.GetTimestamp();
        if (wait <= 0)
        {
            Self.Tell(FlushDue.Instance);
        }
        else
        {
            Timers.StartSingleTimer(FlushDue.Instance, FlushDue.Instance, TimeSpan.FromSeconds((double)wait / System.Diagnostics.Stopwatch.Frequency));
        }
    }

    /// <summary>Wakes the map when the next node key expires (re-armed at least hourly, so clock jumps are caught).</summary>
    private void ArmExpiryTimer()
    {
        var next = _state.NextExpiry;
        if (next == _armedExpiry)
        {
            return;
        }

        _armedExpiry = next;
        if (next is not { } at)
        {
            Timers.Cancel(ExpiryDue.Instance);
            return;
        }

        var delay = at - Now;
        delay = delay < TimeSpan.Zero ? TimeSpan.Zero : delay > MaxExpiryTimer ? MaxExpiryTimer : delay;
        Timers.StartSingleTimer(ExpiryDue.Instance, ExpiryDue.Instance, delay);
    }

    private void Detach(long nodeId, IActorRef session)
    {
        if (!_sessions.TryGetValue(nodeId, out var sessions) || !sessions.Remove(session))
        {
            return;
        }

        Context.Unwatch(session);
        if (sessions.Count == 0)
        {
            _sessions.Remove(nodeId);
            _state.Unsubscribe(nodeId);
            Timers.StartSingleTimer(nodeId, new GoOffline(nodeId), _offlineGrace);
        }
    }

    /// <summary>
    /// Sends each viewer's delta to its sessions. Viewers that get the same message (the state shares
    /// one instance for identical deltas) share one <see cref="MapDelta"/>, so its frame is encoded once.
    /// </summary>
    private void Dispatch(IReadOnlyList<ViewerUpdate> updates)
    {
        if (updates.Count == 0)
        {
            return;
        }

        var shared = new Dictionary<MapResponse, MapDelta>(ReferenceEqualityComparer.Instance);
        foreach (var update in updates)
        {
            if (_sessions.TryGetValue(update.ViewerId, out var sessions))
            {
                if (!shared.TryGetValue(update.Response, out var delta))
                {
                    shared[update.Response] = delta = new MapDelta(update.Response);
                }

                foreach (var session in sessions)
                {
                    session.Tell(delta);
                }
            }
        }

        _log.Debug("network map change reached {Viewers} viewers in {Messages} distinct messages", updates.Count, shared.Count);
    }

    /// <summary>The node arrived: the subscriptions that waited for it proceed.</summary>
    private void SubscribeAwaiting(long nodeId)
    {
        if (_awaitingNode.Remove(nodeId, out var waiting))
        {
            Timers.Cancel(new UnknownNodeWaitOver(nodeId));
            foreach (var subscribe in waiting)
            {
                OnSubscribe(subscribe);
            }
        }
    }

    private void RejectAwaiting(long nodeId, string reason)
    {
        if (_awaitingNode.Remove(nodeId, out var waiting))
        {
            Timers.Cancel(new UnknownNodeWaitOver(nodeId));
            foreach (var subscribe in waiting)
            {
                subscribe.Session.Tell(new SubscribeRejected(nodeId, reason));
            }
        }
    }

    private sealed record RecompileDue : INoSerializationVerificationNeeded, IDeadLetterSuppression
    {
        public static readonly RecompileDue Instance = new();
    }

    /// <summary>Also the timer's key.</summary>
    private sealed record FlushDue : INoSerializationVerificationNeeded, IDeadLetterSuppression
    {
        public static readonly FlushDue Instance = new();
    }

    /// <summary>
    /// The grace after this host's last stream of the node has passed (or after the host that held
    /// its last stream left). Only when no host has a stream does the node go offline here, and then
    /// this host tells the node entity; other hosts learn that from <c>LastStream</c>.
    /// </summary>
    private void OnGraceOver(long nodeId)
    {
        if (_sessions.ContainsKey(nodeId))
        {
            return;
        }

        var elsewhere = _remoteOnline.ContainsKey(nodeId);
        if (_announced.Remove(nodeId))
        {
            _publishOnline(new OnlineNotifications.OnlineReported(nodeId, false, !elsewhere, _origin, ++_sequence));
        }

        if (!elsewhere)
        {
            GoOfflineHere(nodeId, tellEntity: true);
        }
    }

    private void GoOfflineHere(long nodeId, bool tellEntity)
    {
        _state.SetOnline(nodeId, online: false, Now);
        ScheduleFlush();
        if (tellEntity)
        {
            _presence?.Tell(new NodeDisconnected(new NodeId((ulong)nodeId), Now));
        }
    }

    /// <summary>True for a message of another host newer than the last one applied from it; a stale or reordered copy is ignored.</summary>
    private bool IsNewFromOther(string origin, long sequence)
    {
        if (origin == _origin || (_originSequence.TryGetValue(origin, out var applied) && applied >= sequence))
        {
            return false;
        }

        _originSequence[origin] = sequence;
        return true;
    }

    private void MarkRemote(long nodeId, string origin)
    {
        if (!_remoteOnline.TryGetValue(nodeId, out var origins))
        {
            _remoteOnline[nodeId] = origins = [];
        }

        origins.Add(origin);
        if (_state.Get(nodeId) is { Online: false })
        {
            _state.SetOnline(nodeId, online: true, Now);
            ScheduleFlush();
        }
    }

    /// <summary>
    /// Drops one host's mark. With no stream left anywhere the node goes offline at once: that host
    /// waited out the grace already. While this host's own grace runs, its timer decides.
    /// </summary>
    private void UnmarkRemote(long nodeId, string origin, bool tellEntity)
    {
        if (!_remoteOnline.TryGetValue(nodeId, out var origins) || !origins.Remove(origin))
        {
            return;
        }

        if (origins.Count > 0)
        {
            return;
        }

        _remoteOnline.Remove(nodeId);
        if (!_sessions.ContainsKey(nodeId) && !_announced.Contains(nodeId))
        {
            GoOfflineHere(nodeId, tellEntity);
        }
    }

    private void OnSnapshot(OnlineNotifications.OnlineSnapshot snapshot)
    {
        if (!IsNewFromOther(snapshot.Origin, snapshot.Sequence))
        {
            return;
        }

        var now = snapshot.NodeIds.ToHashSet();
        var before = _remoteOnline.Where(e => e.Value.Contains(snapshot.Origin)).Select(e => e.Key).ToList();
        foreach (var nodeId in before.Where(id => !now.Contains(id)))
        {
            // A missed offline edge: its origin told the entity then, if anyone had to.
            UnmarkRemote(nodeId, snapshot.Origin, tellEntity: false);
        }

        foreach (var nodeId in now)
        {
            MarkRemote(nodeId, snapshot.Origin);
        }
    }

    /// <summary>
    /// A host that left took its streams with it. Its clients reconnect elsewhere, usually within the
    /// grace, so a node it leaves with no stream goes offline only once the grace has passed here.
    /// </summary>
    private void OnOriginLeft(string origin)
    {
        _originSequence.Remove(origin);
        var marked = _remoteOnline.Where(e => e.Value.Contains(origin)).ToList();
        foreach (var (nodeId, origins) in marked)
        {
            origins.Remove(origin);
            if (origins.Count > 0)
            {
                continue;
            }

            _remoteOnline.Remove(nodeId);
            if (!_sessions.ContainsKey(nodeId) && !_announced.Contains(nodeId))
            {
                Timers.StartSingleTimer(nodeId, new GoOffline(nodeId), _offlineGrace);
            }
        }

        _log.Info("host {Origin} left the cluster; its streams of {NodeCount} nodes no longer count", origin, marked.Count);
    }

    private OnlineNotifications.OnlineSnapshot Snapshot() => new(_origin, ++_sequence, [.. _announced.Order()]);

    private sealed record GoOffline(long NodeId) : INoSerializationVerificationNeeded, IDeadLetterSuppression;

    /// <summary>Also the timer's key.</summary>
    private sealed record ExpiryDue : INoSerializationVerificationNeeded, IDeadLetterSuppression
    {
        public static readonly ExpiryDue Instance = new();
    }

    /// <summary>Also the timer's key (records compare by value), distinct from the offline timers keyed by node id.</summary>
    private sealed record UnknownNodeWaitOver(long NodeId) : INoSerializationVerificationNeeded, IDeadLetterSuppression;
}
