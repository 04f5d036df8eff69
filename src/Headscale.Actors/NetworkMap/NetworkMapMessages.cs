using System.Collections.Immutable;
using Akka.Actor;
using Headscale.Protocol.Tailcfg;

namespace Headscale.Actors.NetworkMap;

/// <summary>Messages of the per-host <see cref="NetworkMapActor"/>. Local only: never sent between members.</summary>
public static class NetworkMapCommands
{
    /// <summary>From a <see cref="MapSessionActor"/>: start streaming node <paramref name="NodeId"/>'s map to <paramref name="Session"/>.
    /// The session receives the full <see cref="MapResponse"/> first, or <see cref="SubscribeRejected"/>.</summary>
    public sealed record Subscribe(long NodeId, IActorRef Session);

    /// <summary>From a session that ends; the node goes offline after a grace period if it was its last stream.</summary>
    public sealed record Unsubscribe(long NodeId, IActorRef Session);

    /// <summary>To a session: the node is not in the map (deleted or unknown); the stream must end with 404.</summary>
    public sealed record SubscribeRejected(long NodeId, string Reason);

    /// <summary>A node was registered or changed: the view replaces the previous one.</summary>
    public sealed record NodeUpdated(PeerView View);

    /// <summary>A node was deleted.</summary>
    public sealed record NodeRemoved(long NodeId);

    /// <summary>The feed's initial load: every node at once, so the policy is compiled once rather than once per node.</summary>
    public sealed record NodesLoaded(ImmutableArray<PeerView> Views);

    /// <summary>
    /// To a map session from a network map about to restart after a failure: the map forgets its subscribers, so the
    /// session subscribes again and gets a full map once the map knows its node again.
    /// </summary>
    public sealed record MapRestarting
    {
        public static readonly MapRestarting Instance = new();
    }

    /// <summary>
    /// Published on the host's event stream by a network map that restarted after a failure and so starts empty:
    /// the feed sends it the whole tailnet and policy again.
    /// </summary>
    public sealed record NetworkMapRestarted(IActorRef Map);

    /// <summary>Endpoints, disco key or home DERP from a lite map update (not persisted).</summary>
    public sealed record EndpointsUpdated(long NodeId, ImmutableArray<string> Endpoints, string? DiscoKey, int HomeDerp);

    /// <summary>
    /// The host at <paramref name="Origin"/> left the cluster or was removed after a crash: the online
    /// marks it contributed are dropped, and a node left with no stream anywhere goes offline after the grace.
    /// </summary>
    public sealed record OriginLeft(string Origin);

    /// <summary>From the feed at each resync: publish this host's <see cref="OnlineNotifications.OnlineSnapshot"/>, repairing lost edges.</summary>
    public sealed record PublishOnlineSnapshot
    {
        public static readonly PublishOnlineSnapshot Instance = new();
    }

    /// <summary>A new policy (null: none, everything allowed). The map compiles it over its nodes, and again whenever they change.</summary>
    public sealed record PolicyUpdated(Headscale.Policy.ParsedPolicy? Policy);

    /// <summary>
    /// The settings source changed (extra DNS records reloaded, DERP map refreshed): the map reads it
    /// again and sends connected viewers what changed.
    /// </summary>
    public sealed record RefreshSettings
    {
        public static readonly RefreshSettings Instance = new();
    }

    /// <summary>
    /// To the host's feed (SIGHUP): read the policy file again and apply it if it loads and differs;
    /// a file that does not load is logged and the policy in force stays.
    /// </summary>
    public sealed record ReloadPolicyFile
    {
        public static readonly ReloadPolicyFile Instance = new();
    }

    /// <summary>Reply: <see cref="MapStatistics"/>.</summary>
    public sealed record GetStatistics
    {
        public static readonly GetStatistics Instance = new();
    }

    /// <param name="PolicyCompiles">How often this map has compiled a policy over its nodes since it started.</param>
    public sealed record MapStatistics(int Nodes, int Viewers, int Sessions, long PolicyCompiles = 0);

    /// <summary>Reply: <see cref="NodeStatusList"/> with an entry for each of <paramref name="NodeIds"/> this map knows.</summary>
    public sealed record GetNodeStatus(ImmutableArray<long> NodeIds);

    /// <summary>What only the network map knows of a node: online (a stream on any host) and the routes it serves as primary.</summary>
    public sealed record NodeStatus(long NodeId, bool Online, ImmutableArray<string> PrimaryRoutes, ImmutableArray<string> ExitRoutes);

    public sealed record NodeStatusList(ImmutableArray<NodeStatus> Nodes);
}

/// <summary>Registry key of the host's <see cref="NetworkMapActor"/>.</summary>
public sealed class NetworkMapRegistryKey;

/// <summary>Registry key of the host's <see cref="NetworkMapFeedActor"/>.</summary>
public sealed class NetworkMapFeedRegistryKey;
