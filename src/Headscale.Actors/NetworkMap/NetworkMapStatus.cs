using System.Collections.Immutable;
using Akka.Actor;
using Akka.Hosting;
using Headscale.Actors.Hosting;
using static Headscale.Actors.NetworkMap.NetworkMapCommands;

namespace Headscale.Actors.NetworkMap;

/// <summary>What the management API reads from this host's network map: online status and primary routes.</summary>
public interface INetworkMapStatus
{
    /// <summary>The status of each of <paramref name="nodeIds"/> the map knows; absent ids are not (yet) in the map.</summary>
    Task<ImmutableDictionary<long, NodeStatus>> GetAsync(IReadOnlyCollection<long> nodeIds, CancellationToken cancellationToken);
}

internal sealed class NetworkMapStatus(IRequiredActor<NetworkMapRegistryKey> map, HeadscaleActorsOptions options) : INetworkMapStatus
{
    public async Task<ImmutableDictionary<long, NodeStatus>> GetAsync(IReadOnlyCollection<long> nodeIds, CancellationToken cancellationToken)
    {
        if (nodeIds.Count == 0)
        {
            return ImmutableDictionary<long, NodeStatus>.Empty;
        }

        var actor = await map.GetAsync(cancellationToken);
        var list = await actor.Ask<NodeStatusList>(new GetNodeStatus([.. nodeIds]), options.Domain.AskTimeout, cancellationToken);
        return list.Nodes.ToImmutableDictionary(n => n.NodeId);
    }
}
