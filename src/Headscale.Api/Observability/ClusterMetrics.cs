using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Headscale.Actors.NetworkMap;
using Headscale.Actors.Nodes;
using Prometheus;

namespace Headscale.Api.Observability;

/// <summary>
/// Gauges read from the actor system when Prometheus scrapes: nodes in this host's network map and
/// how many of them have a live stream here, cluster members by status, and the node shards and
/// entities hosted here. A part that does not answer within <see cref="AskTimeout"/> keeps its last value.
/// </summary>
public sealed class ClusterMetrics
{
    public static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(2);

    private static readonly string[] MemberStatuses = Enum.GetNames<MemberStatus>().Select(s => s.ToLowerInvariant()).ToArray();

    private readonly IServiceProvider _services;
    private readonly Gauge _nodes;
    private readonly Gauge _nodesOnline;
    private readonly Gauge _members;
    private readonly Gauge _shards;
    private readonly Gauge _entities;

    public ClusterMetrics(IServiceProvider services, CollectorRegistry registry)
    {
        _services = services;
        var factory = Metrics.WithCustomRegistry(registry);
        _nodes = factory.CreateGauge("headscale_nodes", "Nodes in this host's network map.");
        _nodesOnline = factory.CreateGauge("headscale_nodes_online", "Nodes with a live map stream on this host.");
        _members = factory.CreateGauge("headscale_cluster_members", "Akka cluster members as this host sees them, by status.", ["status"]);
        _shards = factory.CreateGauge("headscale_cluster_shards", "Shards of an entity type hosted on this member.", ["type"]);
        _entities = factory.CreateGauge("headscale_cluster_shard_entities", "Entities of an entity type running on this member.", ["type"]);
        registry.AddBeforeCollectCallback(CollectAsync);
    }

    private async Task CollectAsync(CancellationToken cancellationToken)
    {
        if (_services.GetService<ActorSystem>() is not { WhenTerminated.IsCompleted: false } system)
        {
            return;
        }

        var state = Cluster.Get(system).State;
        foreach (var status in MemberStatuses)
        {
            _members.WithLabels(status).Set(state.Members.Count(m => m.Status.ToString().Equals(status, StringComparison.OrdinalIgnoreCase)));
        }

        var registry = ActorRegistry.For(system);
        await Task.WhenAll(MapAsync(registry, cancellationToken), ShardsAsync(registry, cancellationToken));
    }

    private async Task MapAsync(ActorRegistry registry, CancellationToken cancellationToken)
    {
        if (!registry.TryGet<NetworkMapRegistryKey>(out var map))
        {
            return;
        }

        try
        {
            var stats = await map.Ask<NetworkMapCommands.MapStatistics>(NetworkMapCommands.GetStatistics.Instance, AskTimeout, cancellationToken);
            _nodes.Set(stats.Nodes);
            _nodesOnline.Set(stats.Viewers);
        }
        catch (AskTimeoutException)
        {
            // Keep the last value: a busy map must not make the scrape fail.
        }
    }

    private async Task ShardsAsync(ActorRegistry registry, CancellationToken cancellationToken)
    {
        if (!registry.TryGet<NodeShard>(out var region))
        {
            return;
        }

        try
        {
            var state = await region.Ask<CurrentShardRegionState>(GetShardRegionState.Instance, AskTimeout, cancellationToken);
            _shards.WithLabels(Headscale.Actors.Registration.NodeLifecycleHostingExtensions.NodeTypeName).Set(state.Shards.Count);
            _entities.WithLabels(Headscale.Actors.Registration.NodeLifecycleHostingExtensions.NodeTypeName).Set(state.Shards.Sum(s => s.EntityIds.Count));
        }
        catch (AskTimeoutException)
        {
        }
    }
}
