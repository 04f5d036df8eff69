using System.Collections.Immutable;
using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using PubSub = Akka.Cluster.Tools.PublishSubscribe;
using Akka.Event;
using Headscale.Actors.Nodes;
using Headscale.Actors.Nodes.Messages;
using Headscale.Actors.Policy;
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
/// <code>
///   Loading --Loaded--> Live          (stash replayed)
///   Loading --failure--> Loading      (retried after RetryDelay)
/// </code>
/// </summary>
public sealed class NetworkMapFeedActor : ReceiveActor, IWithUnboundedStash, IWithTimers
{
    /// <summary>How long to wait before loading again when a singleton did not answer.</summary>
    public static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);

    /// <summary>Node entities asked at once during the load.</summary>
    private const int LoadParallelism = 32;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IActorRef _map;
    private readonly FeedSources _sources;
    private readonly Dictionary<ulong, long> _versions = new();
    private readonly Dictionary<ulong, Node> _nodes = new();
    private readonly Dictionary<UserId, User> _users = new();
    private long _policyVersion;

    public NetworkMapFeedActor(IActorRef map, FeedSources sources)
    {
        _map = map;
        _sources = sources;
        Loading();
    }

    public IStash Stash { get; set; } = null!;

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(IActorRef map, FeedSources sources) =>
        Akka.Actor.Props.Create(() => new NetworkMapFeedActor(map, sources));

    protected override void PreStart()
    {
        var mediator = DistributedPubSub.Get(Context.System).Mediator;
        mediator.Tell(new PubSub.Subscribe(NodeNotifications.Topic, Self));
        mediator.Tell(new PubSub.Subscribe(UserNotifications.Topic, Self));
        mediator.Tell(new PubSub.Subscribe(PolicyNotifications.Topic, Self));
        StartLoad();
    }

    private void Loading()
    {
        Receive<Loaded>(loaded =>
        {
            Apply(loaded);
            Become(Live);
            Stash.UnstashAll();
        });
        Receive<Status.Failure>(f =>
        {
            _log.Warning(f.Cause, "network map load failed; retrying in {Delay}", RetryDelay);
            Timers.StartSingleTimer(RetryLoad.Instance, RetryLoad.Instance, RetryDelay);
        });
        Receive<RetryLoad>(_ => StartLoad());
        Receive<SubscribeAck>(_ => { });
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
                _map.Tell(new PolicyUpdated(Parse(p.Text, $"policy version {p.Version}")));
            }
        });
        Receive<SubscribeAck>(_ => { });
    }

    private void StartLoad() => _sources.LoadAsync(LoadParallelism).PipeTo(Self);

    private void Apply(Loaded loaded)
    {
        foreach (var user in loaded.Users)
        {
            _users[user.Id] = user;
        }

        if (loaded.Policy is { } policy)
        {
            _policyVersion = policy.Version;
            _map.Tell(new PolicyUpdated(policy.Text is null ? null : Parse(policy.Text, policy.Source)));
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
