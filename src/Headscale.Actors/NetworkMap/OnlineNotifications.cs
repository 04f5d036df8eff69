using System.Collections.Immutable;
using Headscale.Actors.Serialization;

namespace Headscale.Actors.NetworkMap;

/// <summary>
/// Online status shared between hosts (decision 0007): a node is online while it has a map stream on
/// any host. Each host publishes the edges of its own streams; every map counts the hosts that hold
/// one, and drops a host's marks when it leaves the cluster.
/// </summary>
public static class OnlineNotifications
{
    /// <summary>DistributedPubSub topic every host's network map feed subscribes to.</summary>
    public const string Topic = "node-online";

    /// <summary>
    /// The host at <paramref name="Origin"/> (its actor system address) has a stream of node
    /// <paramref name="NodeId"/> (<paramref name="Online"/>), or no longer has one once its offline grace
    /// has passed. <paramref name="LastStream"/> on an offline edge: the origin knew of no stream on any
    /// host and told the node entity itself, so no receiver has to. <paramref name="Sequence"/> rises with
    /// every message of the origin; receivers ignore anything not newer than what they applied from it.
    /// </summary>
    public sealed record OnlineReported(long NodeId, bool Online, bool LastStream, string Origin, long Sequence) : IHeadscaleSerializable;

    /// <summary>Every node with a stream (or within its offline grace) on the host at <paramref name="Origin"/>: replaces that host's marks.</summary>
    public sealed record OnlineSnapshot(string Origin, long Sequence, ImmutableArray<long> NodeIds) : IHeadscaleSerializable;

    /// <summary>To another host's feed, from a host that saw it join (or joined itself): answer with an <see cref="OnlineSnapshot"/>.</summary>
    public sealed record OnlineSnapshotRequested(string Origin) : IHeadscaleSerializable;
}
