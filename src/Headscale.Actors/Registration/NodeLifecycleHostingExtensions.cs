using Akka.Actor;
using Akka.Pattern;
using Akka.Cluster.Hosting;
using Akka.Cluster.Sharding;
using Akka.Hosting;
using Headscale.Actors.Hosting;
using Headscale.Actors.Nodes;
using Headscale.Actors.PreAuthKeys;
using Headscale.Actors.Users;
using Microsoft.Extensions.DependencyInjection;

namespace Headscale.Actors.Registration;

/// <summary>Wires users, pre-auth keys, nodes and registration: actors into the builder, facades into DI.</summary>
public static class NodeLifecycleHostingExtensions
{
    /// <summary>Shard region type name; part of the stored sharding layout.</summary>
    public const string NodeTypeName = "node";

    /// <summary>The facades the Api layer uses (all singletons, none exposing an actor).</summary>
    public static IServiceCollection AddNodeLifecycleServices(this IServiceCollection services)
    {
        services.AddSingleton<DomainActors>();
        services.AddSingleton<NodeRegistrar>();
        services.AddSingleton<IUserService, UserService>();
        services.AddSingleton<IPreAuthKeyService, PreAuthKeyService>();
        services.AddSingleton<INodeService, NodeService>();
        services.AddSingleton<IRegistrationService, RegistrationService>();
        return services;
    }

    /// <summary>Node entities first (the registry tells them about ephemeral nodes), then the singletons.</summary>
    public static AkkaConfigurationBuilder WithNodeLifecycle(this AkkaConfigurationBuilder builder, DomainSettings settings) =>
        builder
            .WithNodeEntities(settings)
            .WithSingleton<UserDirectorySingleton>("users", RestartOnStop(Props.Create(() => new UserDirectoryActor()), "users"), new ClusterSingletonOptions(), createProxyToo: true)
            .WithSingleton<PreAuthKeyStoreSingleton>("preauthkeys", RestartOnStop(Props.Create(() => new PreAuthKeyStoreActor()), "preauthkeys"), new ClusterSingletonOptions(), createProxyToo: true)
            .WithSingleton<NodeRegistrySingleton>(
                "node-registry",
                (_, registry, _) => RestartOnStop(NodeRegistryActor.Props(settings.Addressing, registry.Get<NodeShard>()), "node-registry"),
                new ClusterSingletonOptions(),
                createProxyToo: true)
            .WithSingleton<PendingRegistrationsSingleton>(
                "pending-registrations",
                PendingRegistrationsActor.Props(settings.RegisterCacheExpiration),
                new ClusterSingletonOptions(),
                createProxyToo: true);

    /// <summary>
    /// A persistent actor stops when a journal write fails; the singleton manager would not start it
    /// again, so a backoff supervisor recreates it (recovering from the journal) after a pause.
    /// </summary>
    private static Props RestartOnStop(Props child, string name) =>
        BackoffSupervisor.Props(Backoff.OnStop(child, name, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(30), 0.2, maxNrOfRetries: -1));

    /// <summary>
    /// The node shard region. Remember-entities stays off: nothing must run for an idle node
    /// (ephemeral cleanup is re-armed by the registry after a restart).
    /// </summary>
    public static AkkaConfigurationBuilder WithNodeEntities(this AkkaConfigurationBuilder builder, DomainSettings settings) =>
        builder.AddHocon(Dispatch.CompactMailboxes.Hocon, HoconAddMode.Prepend).WithShardRegion<NodeShard>(
            NodeTypeName,
            (_, registry) => entityId => NodeActor.Props(entityId, registry, settings.EphemeralInactivityTimeout),
            new NodeMessageExtractor(),
            new ShardOptions
            {
                RememberEntities = false,
                StateStoreMode = StateStoreMode.DData,
                PassivateIdleEntityAfter = NodeIdleTimeout(settings.EphemeralInactivityTimeout),
            });

    /// <summary>
    /// How long a node entity may sit idle before it is stopped. An ephemeral node's cleanup is a
    /// timer in its entity, started by the disconnect message; stopping the entity first would lose
    /// it, so the idle time always exceeds the inactivity timeout with room to spare.
    /// </summary>
    public static TimeSpan NodeIdleTimeout(TimeSpan ephemeralInactivityTimeout)
    {
        var floor = TimeSpan.FromMinutes(10);
        var twice = ephemeralInactivityTimeout * 2;
        return twice > floor ? twice : floor;
    }
}
