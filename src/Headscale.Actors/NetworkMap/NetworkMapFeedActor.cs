using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Event;
using Headscale.Actors.Nodes;
using Headscale.Actors.Nodes.Messages;
using Headscale.Actors.Policy;
using Headscale.Actors.Registration;
using Headscale.Actors.Users;
using Headscale.Actors.Users.Messages;
using Headscale.Policy;
using static Headscale.Actors.NetworkMap.NetworkMapCommands;

namespace Headscale.Actors.NetworkMap;

/// <summary>
/// Keeps one host's <see cref="NetworkMapActor"/> in step with the cluster (decision 0007). It
/// subscribes to the node, user and policy topics first, then loads every node (with its journal
/// version), every user and the policy; changes that arrive meanwhile wait in the stash. After
/// that each published change is applied in order per node: a copy older than the version held is
/// dropped, so a late load reply or a duplicate never rolls a node back.
/// Every resync interval it loads everything again (asking also for the nodes it holds, so a
/// deletion it missed shows) and applies what is newer: DistributedPubSub may lose a message.
/// Online status comes from the other hosts' edges on <see cref="OnlineNotifications.Topic"/>; the
/// feed also asks each host it sees join for its <see cref="OnlineNotifications.OnlineSnapshot"/>,
/// tells the map when a host leaves (<see cref="OriginLeft"/>), and has the map publish its own
/// snapshot at every resync, and at one more resync <see cref="JoinSettleDelay"/> after a host joined.
/// <code>
///   Loading --Loaded--> Live          (stash replayed, resync timer started)
///   Loading --failure--> Loading      (retried after RetryDelay)
///   Live --ResyncTick--> Live         (load again, Reconcile by version)
///   Live --MemberUp--> Live           (ask the new host for its online snapshot; resync once JoinSettleDelay later)
/// </code>
/// </summary>
public sealed class NetworkMapFeedActor : ReceiveActor, IWithUnboundedStash, IWithTimers
{
    /// <summary>How long to wait before loading again when a singleton did not answer.</summary>
    public static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long after another host comes up the feed resyncs once. Until DistributedPubSub has gossiped
    /// the new host's subscriptions (every second by default), what is published to it is lost; the
    /// resync, and the online snapshot it publishes, repair that.
    /// </summary>
    public static readonly TimeSpan JoinSettleDelay = TimeSpan.FromSeconds(5);

    /// <summary>Node entities asked at once during the load.</summary>
    private const int LoadParallelism = 32;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _map;
    private readonly FeedSources _sources;
    private readonly Dictionary<ulong, long> _versions = new();
    private readonly Dictionary<ulong, Node> _nodes = new();
    private readonly Dictionary<UserId, User> _users = new();
    private long _policyVersion;

    /// <summary>The policy last sent to the map, to send again when the map restarts.</summary>
    private PolicyUpdated? _policySent;
    private string? _policyFileText;

    private readonly TimeSpan _resyncInterval;
    private readonly string _origin = EndpointNotifications.OriginOf(Context.System);
    private bool _resyncing;

    /// <param name="resyncInterval">How often the whole state is loaded again and compared by version,
    /// repairing what a lost notification left stale; zero or less never.</param>
    public NetworkMapFeedActor(IActorRef map, FeedSources sources, TimeSpan resyncInterval)
    {
        _map = map;
        _sources = sources;
        _resyncInterval = resyncInterval;
        Loading();
    }

    public IStash Stash { get; set; } = null!;

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IActorRef map, FeedSources sources, TimeSpan resyncInterval) =>
        Akka.Actor.Props.Create(() => new NetworkMapFeedActor(map, sources, resyncInterval));

    protected override void PreStart()
    {
        ClusterNotifications.Subscribe(Context.System, NodeNotifications.Topic, Self);
        ClusterNotifications.Subscribe(Context.System, UserNotifications.Topic, Self);
        ClusterNotifications.Subscribe(Context.System, PolicyNotifications.Topic, Self);
        ClusterNotifications.Subscribe(Context.System, EndpointNotifications.Topic, Self);
        ClusterNotifications.Subscribe(Context.System, OnlineNotifications.Topic, Self);
        Context.System.EventStream.Subscribe(Self, typeof(NetworkMapRestarted));
        if (IsClusterMember)
        {
            Cluster.Get(Context.System).Subscribe(Self, ClusterEvent.SubscriptionInitialStateMode.InitialStateAsEvents,
                typeof(ClusterEvent.MemberUp), typeof(ClusterEvent.MemberRemoved));
        }

        StartLoad();
    }

    protected override void PostStop()
    {
        if (IsClusterMember)
        {
            Cluster.Get(Context.System).Unsubscribe(Self);
        }
    }

    private bool IsClusterMember => ClusterNotifications.IsClusterMember(Context.System);

    private void Loading()
    {
        Receive<Loaded>(loaded =>
        {
            Apply(loaded);
            Become(Live);
            Stash.UnstashAll();
            if (_resyncInterval > TimeSpan.Zero)
            {
                Timers.StartPeriodicTimer(ResyncTick.Instance, ResyncTick.Instance, _resyncInterval);
            }
        });
        Receive<Status.Failure>(f =>
        {
            _log.Warning(f.Cause, "network map load failed; retrying in {Delay}", RetryDelay);
            Timers.StartSingleTimer(RetryLoad.Instance, RetryLoad.Instance, RetryDelay);
        });
        Receive<RetryLoad>(_ => StartLoad());
        Receive<SubscribeAck>(_ => { });
        // The load under way reaches the restarted map anyway.
        Receive<NetworkMapRestarted>(_ => { });
        ReceiveAny(_ => Stash.Stash());
    }

    private void Live()
    {
        Receive<NodeNotifications.NodeChanged>(OnNodeChanged);
        Receive<UserNotifications.UserChanged>(OnUserChanged);
        Receive<PolicyNotifications.PolicyTextChanged>(p =>
        {
            if (p.Version > _policyVersion)
            {
                _policyVersion = p.Version;
                TellPolicy(Parse(p.Text, $"policy version {p.Version}"));
            }
        });
        Receive<ReloadPolicyFile>(_ => _sources.ReadPolicyFileAsync()
            .PipeTo(Self, success: p => new PolicyFileRead(p, null), failure: e => new PolicyFileRead(null, e)));
        Receive<PolicyFileRead>(read =>
        {
            if (read.Error is { } error)
            {
                _log.Error("the policy file cannot be read; the policy in force stays: {Reason}", error.Message);
                return;
            }

            ApplyPolicyFile(read.Policy);
        });
        Receive<SubscribeAck>(_ => { });
        Receive<EndpointNotifications.EndpointsReported>(r =>
        {
            // This host's own reports reached its map directly.
            if (r.Origin != _origin)
            {
                _map.Tell(new EndpointsUpdated(r.NodeId, r.Endpoints, r.DiscoKey.Length > 0 ? r.DiscoKey : null, r.HomeDerp));
            }
        });
        Receive<OnlineNotifications.OnlineReported>(r =>
        {
            if (r.Origin != _origin)
            {
                _map.Tell(r);
            }
        });
        Receive<OnlineNotifications.OnlineSnapshot>(s =>
        {
            if (s.Origin != _origin)
            {
                _map.Tell(s);
            }
        });
        Receive<OnlineNotifications.OnlineSnapshotRequested>(request => _map.Forward(request));
        Receive<ClusterEvent.MemberUp>(up =>
        {
            // Its feed runs at the same path as this one. A member that is only starting has no
            // streams yet; it asks this host in turn once its own feed sees this host.
            var address = up.Member.Address;
            if (address.ToString() != _origin)
            {
                Context.ActorSelection(new RootActorPath(address) / Self.Path.Elements)
                    .Tell(new OnlineNotifications.OnlineSnapshotRequested(_origin));
                if (!Timers.IsTimerActive(JoinSettled.Instance))
                {
                    Timers.StartSingleTimer(JoinSettled.Instance, JoinSettled.Instance, JoinSettleDelay);
                }
            }
        });
        Receive<JoinSettled>(_ => Resync());
        Receive<ClusterEvent.MemberRemoved>(removed =>
        {
            if (removed.Member.Address.ToString() != _origin)
            {
                _map.Tell(new OriginLeft(removed.Member.Address.ToString()));
            }
        });
        Receive<ResyncTick>(_ => Resync());
        Receive<NetworkMapRestarted>(restarted =>
        {
            if (!restarted.Map.Equals(_map))
            {
                return;
            }

            // The map starts empty: everything this feed knows goes to it again, and the other hosts are asked
            // for their streams, as when they join.
            _log.Info("network map restarted; sending it {NodeCount} nodes and the policy again", _nodes.Count);
            _map.Tell(_policySent ?? new PolicyUpdated(null));
            _map.Tell(new NodesLoaded([.. _nodes.Values.OrderBy(n => n.Id.Value).Select(ViewOf)]));
            if (IsClusterMember)
            {
                foreach (var member in Cluster.Get(Context.System).State.Members.Where(m => m.Address.ToString() != _origin))
                {
                    Context.ActorSelection(new RootActorPath(member.Address) / Self.Path.Elements)
                        .Tell(new OnlineNotifications.OnlineSnapshotRequested(_origin));
                }
            }
        });
        Receive<Resynced>(r =>
        {
            _resyncing = false;
            Reconcile(r.Loaded);
        });
        Receive<Status.Failure>(f =>
        {
            _resyncing = false;
            _log.Warning(f.Cause, "network map resync failed; the periodic resync (every {Interval}) tries again", _resyncInterval);
        });
    }

    private void Resync()
    {
        _map.Tell(PublishOnlineSnapshot.Instance);
        if (!_resyncing)
        {
            _resyncing = true;
            _sources.LoadAsync(LoadParallelism, [.. _nodes.Keys.Select(id => new NodeId(id))])
                .PipeTo(Self, success: loaded => new Resynced(loaded));
        }
    }

    private void TellPolicy(Headscale.Policy.ParsedPolicy? policy)
    {
        _policySent = new PolicyUpdated(policy);
        _map.Tell(_policySent);
    }

    private void StartLoad() => _sources.LoadAsync(LoadParallelism, []).PipeTo(Self);

    /// <summary>Applies whatever a fresh load shows that this feed missed; versions keep newer notifications.</summary>
    private void Reconcile(Loaded loaded)
    {
        var loadedUsers = loaded.Users.ToDictionary(u => u.Id);
        foreach (var user in loaded.Users.Where(u => _users.GetValueOrDefault(u.Id) != u))
        {
            OnUserChanged(new UserNotifications.UserChanged(user.Id, user));
        }

        foreach (var gone in _users.Keys.Where(id => !loadedUsers.ContainsKey(id)).ToList())
        {
            OnUserChanged(new UserNotifications.UserChanged(gone, null));
        }

        if (loaded.Policy is { Version: > 0 } policy && policy.Version > _policyVersion)
        {
            _policyVersion = policy.Version;
            TellPolicy(policy.Text is null ? null : Parse(policy.Text, policy.Source));
        }

        foreach (var change in loaded.Nodes)
        {
            OnNodeChanged(change);
        }
    }

    private void Apply(Loaded loaded)
    {
        foreach (var user in loaded.Users)
        {
            _users[user.Id] = user;
        }

        if (loaded.Policy is { } policy)
        {
            _policyVersion = policy.Version;
            _policyFileText = policy.Version == 0 ? policy.Text : null;
            TellPolicy(policy.Text is null ? null : Parse(policy.Text, policy.Source));
        }

        foreach (var change in loaded.Nodes)
        {
            Remember(change);
        }

        _map.Tell(new NodesLoaded([.. _nodes.Values.OrderBy(n => n.Id.Value).Select(ViewOf)]));
    }

    private void OnNodeChanged(NodeNotifications.NodeChanged change)
    {
        if (!Remember(change))
        {
            return;
        }

        _map.Tell(change.Node is { } node ? new NodeUpdated(ViewOf(node)) : new NodeRemoved((long)change.Id.Value));
    }

    /// <summary>Keeps the change if it is newer than what is held; false for a stale or repeated copy.</summary>
    private bool Remember(NodeNotifications.NodeChanged change)
    {
        if (_versions.TryGetValue(change.Id.Value, out var held) && held >= change.Version)
        {
            return false;
        }

        _versions[change.Id.Value] = change.Version;
        if (change.Node is { } node)
        {
            _nodes[change.Id.Value] = node;
        }
        else
        {
            _nodes.Remove(change.Id.Value);
        }

        return true;
    }

    private void OnUserChanged(UserNotifications.UserChanged change)
    {
        var before = _users.GetValueOrDefault(change.Id);
        if (change.User is { } user)
        {
            _users[change.Id] = user;
        }
        else
        {
            _users.Remove(change.Id);
        }

        if (PeerViews.LoginOf(before, change.Id) == PeerViews.LoginOf(change.User, change.Id))
        {
            return;
        }

        // The login is part of every view of the user's nodes (profiles, policy user aliases).
        foreach (var node in _nodes.Values.Where(n => n.User == change.Id))
        {
            _map.Tell(new NodeUpdated(ViewOf(node)));
        }
    }

    /// <summary>
    /// A reload keeps the policy in force unless the file loads: unlike at start (where a broken file
    /// allows nothing), a running tailnet must not lose its access rules to a bad edit.
    /// </summary>
    private void ApplyPolicyFile(LoadedPolicy? read)
    {
        if (read?.Text is not { } text)
        {
            _log.Warning("policy reload requested, but the policy does not come from a file (policy.mode is not file or policy.path is empty)");
            return;
        }

        if (text == _policyFileText)
        {
            _log.Info("{Source} is unchanged", read.Source);
            return;
        }

        var result = PolicyLoader.Load(text);
        if (result.Policy is not { } parsed)
        {
            _log.Error("{Source} does not load; the policy in force stays: {Errors}", read.Source, result.ErrorMessage);
            return;
        }

        _policyFileText = text;
        TellPolicy(parsed);
        _log.Info("{Source} reloaded", read.Source);
    }

    private PeerView ViewOf(Node node) => PeerViews.From(node, PeerViews.LoginOf(_users.GetValueOrDefault(node.User), node.User));

    /// <summary>
    /// A policy that does not load (a file edited badly) must not open the tailnet: it becomes the
    /// empty policy, which allows nothing, and the error is logged.
    /// </summary>
    private ParsedPolicy Parse(string text, string source)
    {
        var result = PolicyLoader.Load(text);
        if (result.Policy is { } parsed)
        {
            return parsed;
        }

        _log.Error("{Source} does not load, nothing is allowed until it is fixed: {Errors}", source, result.ErrorMessage);
        return PolicyLoader.Load("{}").Policy!;
    }

    private sealed record ResyncTick : INoSerializationVerificationNeeded, IDeadLetterSuppression
    {
        public static readonly ResyncTick Instance = new();
    }

    private sealed record JoinSettled : INoSerializationVerificationNeeded, IDeadLetterSuppression
    {
        public static readonly JoinSettled Instance = new();
    }

    private sealed record Resynced(Loaded Loaded) : INoSerializationVerificationNeeded;

    private sealed record PolicyFileRead(LoadedPolicy? Policy, Exception? Error) : INoSerializationVerificationNeeded;

    private sealed record RetryLoad : INoSerializationVerificationNeeded, IDeadLetterSuppression
    {
        public static readonly RetryLoad Instance = new();
    }
}

/// <summary>What the feed loads at start: node states with their versions, users, and the policy (null: leave the map's default).</summary>
public sealed record Loaded(
    ImmutableArray<NodeNotifications.NodeChanged> Nodes,
    ImmutableArray<User> Users,
    LoadedPolicy? Policy) : INoSerializationVerificationNeeded;

/// <summary>The policy in force at load: its text (null: none, everything allowed), version, and where it came from (for logs).</summary>
public sealed record LoadedPolicy(string? Text, long Version, string Source);
