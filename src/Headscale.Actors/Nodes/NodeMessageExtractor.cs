using Akka.Cluster.Sharding;
using Headscale.Actors.Nodes.Messages;

namespace Headscale.Actors.Nodes;

/// <summary>Registry key for the node shard region.</summary>
public sealed class NodeShard;

/// <summary>
/// Routes <see cref="IWithNodeId"/> messages to <c>node-{id}</c> entities. The shard count is
/// fixed forever once data exists (decision 0500): changing it would move entities between shards.
/// </summary>
public sealed class NodeMessageExtractor() : HashCodeMessageExtractor(ShardCount)
{
    /// <summary>
    /// Shards spread entities over members; 100 gives even spread up to ~10 members and stays
    /// cheap for one. Part of the stored layout: never change it after production data exists.
    /// </summary>
    public const int ShardCount = 100;

    public override string? EntityId(object message) => message switch
    {
        IWithNodeId withId => withId.Id.ToString(),
        _ => null,
    };
}
