using Akka.Actor;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Headscale.Actors.NetworkMap;
using Headscale.Actors.Nodes;
using Headscale.Actors.Policy;
using Headscale.Actors.Users;
using Microsoft.Extensions.DependencyInjection;

namespace Headscale.Actors.Hosting;

/// <summary>The per-host network map and the feed that keeps it in step with the cluster (decision 0007).</summary>
public static class NetworkMapHostingExtensions
{
    /// <summary>Name of the host's network map actor (one per member, never a singleton).</summary>
    public const string NetworkMapActorName = "network-map";

    public const string FeedActorName = "network-map-feed";

    /// <summary>The query facade over the local network map (online status, primary routes).</summary>
    public static IServiceCollection AddNetworkMapServices(this IServiceCollection services)
    {
        services.AddSingleton<INetworkMapStatus, NetworkMapStatus>();
        services.AddSingleton<INetworkMapReports, NetworkMapReports>();
        return services;
    }

    /// <summary>
    /// Starts DistributedPubSub, this host's <see cref="NetworkMapActor"/> (registered under
    /// <see cref="NetworkMapRegistryKey"/>) and its <see cref="NetworkMapFeedActor"/>. Call after the
    /// node lifecycle and policy singletons are added: the feed reads their proxies.
    /// </summary>
    public static AkkaConfigurationBuilder WithNetworkMap(this AkkaConfigurationBuilder builder, HeadscaleActorsOptions options) =>
        builder
            .AddHocon(Dispatch.CompactMailboxes.Hocon, HoconAddMode.Prepend)
            .WithDistributedPubSub(string.Empty)
            .WithActors((system, registry, resolver) =>
            {
                var mapOptions = options.NetworkMap;
                var services = resolver.GetService<IServiceProvider>();
                var initial = mapOptions.Settings?.Invoke(services) ?? NetworkMapOptions.DefaultSettings;
                Func<MapSettings>? source = mapOptions.Settings is { } settings ? () => settings(services) : null;
                var nodes = registry.Get<NodeShard>();
                var controlUrl = options.Domain.ServerUrl.ToString().TrimEnd('/');
                var map = system.ActorOf(
                    Props.Create(() => new NetworkMapActor(
                        initial, AllowAllPolicy.Instance, TimeProvider.System, mapOptions.OfflineGrace, controlUrl, nodes, source, null, null, null, mapOptions.FlushWindow)),
                    NetworkMapActorName);
                registry.Register<NetworkMapRegistryKey>(map);

                var sources = new FeedSources(
                    registry.Get<NodeRegistrySingleton>(),
                    nodes,
                    registry.Get<UserDirectorySingleton>(),
                    registry.Get<PolicySingleton>(),
                    mapOptions.PolicySource,
                    mapOptions.PolicyPath,
                    options.Domain.AskTimeout);
                var feed = system.ActorOf(NetworkMapFeedActor.Props(map, sources, mapOptions.ResyncInterval), FeedActorName);
                registry.Register<NetworkMapFeedRegistryKey>(feed);
            });
}
