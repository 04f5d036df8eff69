using Akka.Actor;
using Akka.Cluster;
using Akka.Cluster.Hosting;
using Akka.Hosting;
using Akka.Persistence.Sql.Hosting;
using Akka.Remote.Hosting;
using Headscale.Actors.ApiKeys;
using Headscale.Actors.Auditing;
using Headscale.Actors.Identity;
using Headscale.Actors.Observability;
using Headscale.Actors.Policy;
using Headscale.Actors.Persistence;
using Headscale.Actors.Registration;
using Headscale.Actors.Serialization;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Headscale.Actors.Hosting;

/// <summary>The composition root of the actor layer: one call from the host wires everything.</summary>
public static class ActorsHostingExtensions
{
    /// <summary>
    /// Adds the ActorSystem (a cluster member with sharding, SQL persistence and our serializer),
    /// the journal database helper and the facades the API layer talks to.
    /// </summary>
    public static IServiceCollection AddHeadscaleActors(this IServiceCollection services, HeadscaleActorsOptions options)
    {
        services.AddSingleton(options);
        services.AddSingleton(new JournalDatabase(options.Database));
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<IIdAllocator, IdAllocatorFacade>();
        services.AddSingleton<IApiKeyDirectory, ApiKeyDirectoryFacade>();
        services.AddSingleton<IPolicyStore, PolicyStoreFacade>();
        services.TryAddSingleton<IPolicyValidator, PolicyEngineValidator>();
        services.AddSingleton<IAuditLog, JournalAuditLog>();
        services.AddNodeLifecycleServices();
        services.AddNetworkMapServices();
        services.AddAkka(options.SystemName, (builder, _) => builder.WithHeadscaleActors(options));
        return services;
    }

    /// <summary>The builder half of <see cref="AddHeadscaleActors"/>, usable from tests.</summary>
    public static AkkaConfigurationBuilder WithHeadscaleActors(this AkkaConfigurationBuilder builder, HeadscaleActorsOptions options)
    {
        var hocon = HoconFiles.FallbackPath(options.HoconDirectory);
        if (!File.Exists(hocon))
        {
            throw new FileNotFoundException($"Akka HOCON fallbacks not found at {hocon}", hocon);
        }

        return builder
            .AddHoconFile(hocon, HoconAddMode.Append)
            .ConfigureLoggers(loggers =>
            {
                loggers.ClearLoggers();
                loggers.AddLogger<AkkaLogForwarder>();
            })
            .WithHeadscaleSerialization()
            .WithRemoting(options.Cluster.Hostname, options.Cluster.Port)
            .WithClustering(new ClusterOptions { SeedNodes = options.Cluster.SeedNodes.ToArray() })
            .WithSqlPersistence(
                options.Database.ConnectionString,
                options.Database.Linq2DbProvider,
                journalBuilder: journal => journal.AddWriteEventAdapter<AuditTagger>("audit-tagger", [typeof(IAuditEvent)]),
                autoInitialize: true)
            .WithIdAllocator()
            .WithApiKeyDirectory()
            .WithPolicySingleton()
            .WithNodeLifecycle(options.Domain)
            .WithNetworkMap(options)
            .AddStartup((system, _) =>
            {
                if (options.Cluster.SeedNodes.IsEmpty)
                {
                    // A single host: form a one-member cluster with ourselves.
                    var cluster = Cluster.Get(system);
                    cluster.Join(cluster.SelfAddress);
                }
            });
    }

    /// <summary>Binds every <see cref="IHeadscaleSerializable"/> type to <see cref="HeadscaleSerializer"/>.</summary>
    public static AkkaConfigurationBuilder WithHeadscaleSerialization(this AkkaConfigurationBuilder builder) =>
        builder.WithCustomSerializer(
            "headscale",
            [typeof(IHeadscaleSerializable)],
            system => new HeadscaleSerializer(system));

    /// <summary>The id allocator as a cluster singleton with a proxy in the registry.</summary>
    public static AkkaConfigurationBuilder WithIdAllocator(this AkkaConfigurationBuilder builder) =>
        builder.WithSingleton<IdAllocatorSingleton>(
            "id-allocator",
            Props.Create(() => new IdAllocatorActor()),
            new ClusterSingletonOptions(),
            createProxyToo: true);

    /// <summary>The API key store as a cluster singleton.</summary>
    public static AkkaConfigurationBuilder WithApiKeyDirectory(this AkkaConfigurationBuilder builder) =>
        builder.WithSingleton<ApiKeyDirectorySingleton>(
            "api-keys",
            Props.Create(() => new ApiKeyDirectoryActor()),
            new ClusterSingletonOptions(),
            createProxyToo: true);

    /// <summary>
    /// The database-mode policy as a cluster singleton. Its validator comes from the host's
    /// services (<see cref="IPolicyValidator"/>), so the actor layer does not choose the parser.
    /// </summary>
    public static AkkaConfigurationBuilder WithPolicySingleton(this AkkaConfigurationBuilder builder) =>
        builder.WithSingleton<PolicySingleton>(
            "policy",
            (_, _, resolver) => Props.Create(() => new PolicyActor(resolver.GetService<IPolicyValidator>())),
            new ClusterSingletonOptions(),
            createProxyToo: true);
}
