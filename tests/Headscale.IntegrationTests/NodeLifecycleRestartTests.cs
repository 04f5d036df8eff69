using System.Security.Cryptography;
using Akka.Actor;
using Akka.Hosting;
using Headscale.Actors;
using Headscale.Actors.Hosting;
using Headscale.Actors.Nodes;
using Headscale.Actors.Nodes.Messages;
using Headscale.Actors.Persistence;
using Headscale.Actors.PreAuthKeys;
using Headscale.Actors.Registration;
using Headscale.Actors.Users;
using Headscale.IntegrationTests.Support;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Headscale.IntegrationTests;

/// <summary>
/// Users, keys, nodes, addresses and names survive a full restart on PostgreSQL: the host is torn
/// down and built again over the same database and everything reads back identical, and the
/// uniqueness registries still refuse what was taken before.
/// </summary>
public sealed class NodeLifecycleRestartTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    /// <summary>Owner of the bulk registry entries; no such user exists, so node listings per user skip them.</summary>
    private static readonly UserId BulkOwner = new(999_999);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Every_user_node_key_address_and_name_is_as_before_after_a_restart_on_postgres()
    {
        var name = await postgres.Server.CreateDatabaseAsync("lifecycle");
        var database = new DatabaseSettings
        {
            Kind = DatabaseKind.Postgres,
            PostgresHost = postgres.Server.Host,
            PostgresPort = postgres.Server.Port,
            PostgresDatabase = name,
            PostgresUser = PostgresServer.User,
        };

        Snapshot before;
        string reusableKey;
        await using (var host = await StartAsync(database))
        {
            var now = DateTimeOffset.UtcNow;
            var alice = (await host.Users().CreateAsync("alice", "Alice", "alice@example.com", now, Cause.Cli("users create"), Ct)).User!;
            var bob = (await host.Users().CreateAsync("bob", "", "", now, Cause.Cli("users create"), Ct)).User!;
            reusableKey = (await host.Keys().CreateAsync(new PreAuthKeySpec(alice.Id, true, false, now.AddDays(1), ["tag:server"]), now, Cause.Cli("preauthkeys create"), Ct)).FullKey;
            var single = (await host.Keys().CreateAsync(new PreAuthKeySpec(bob.Id, false, false, now.AddDays(1), []), now, Cause.Cli("preauthkeys create"), Ct)).FullKey;
            await host.Keys().ImportLegacyAsync(new PreAuthKeySpec(bob.Id, true, true, now.AddDays(1), []), new string('c', 48), now, Cause.Cli("import"), Ct);

            for (var i = 0; i < 3; i++)
            {
                Assert.Equal("", (await Register(host, reusableKey, "Same Name")).Error);
            }

            var bobs = await Register(host, single, "bob's laptop");
            await host.Nodes().RenameAsync(bobs.Node!.Id, "bobs-renamed", now, Cause.Cli("nodes rename"), Ct);
            await host.Nodes().ExpireAsync(bobs.Node.Id, null, now, Cause.Cli("nodes expire"), Ct);

            // Enough registry writes to pass a snapshot, so recovery goes through snapshot plus events.
            var registry = await host.Services.GetRequiredService<IRequiredActor<NodeRegistrySingleton>>().GetAsync(Ct);
            await Task.WhenAll(Enumerable.Range(1, 1100).Select(i => registry.Ask<NodeRegistryCommands.NodeRegistryResult>(
                new NodeRegistryCommands.ReserveNode(new NodeId(5_000_000 + (ulong)i), RandomMachine(), RandomNode(), BulkOwner, "bulk", false, now, Cause.System("test")),
                TimeSpan.FromSeconds(60), Ct)));

            before = await Snapshot.TakeAsync(host, Ct);
            Assert.Equal(4, before.Nodes.Length);
            Assert.Equal(1104, before.Index.Length);
        }

        await using (var host = await StartAsync(database))
        {
            var after = await Snapshot.TakeAsync(host, Ct);
            Assert.Equal(before.Users, after.Users);
            Assert.Equal(before.Keys, after.Keys);
            Assert.Equal(before.Nodes, after.Nodes);
            Assert.Equal(before.Index, after.Index);

            // The registries still know what is taken: a new node gets fresh addresses and the next suffix.
            var next = await Register(host, reusableKey, "Same Name");
            Assert.Equal("same-name-3", next.Node!.GivenName);
            Assert.DoesNotContain(next.Node.IPv4, before.Index.Select(e => e.IPv4));
            Assert.DoesNotContain(next.Node.IPv6, before.Index.Select(e => e.IPv6));
            Assert.DoesNotContain(next.Node.Id, before.Index.Select(e => e.Id));
        }
    }

    private static Task<RegisterOutcome> Register(RunningHost host, string key, string hostname) =>
        host.Registration().RegisterAsync(RandomMachine(), new RegisterRequestModel(RandomNode(), NodeKey.Zero, key, null, "", hostname, false), DateTimeOffset.UtcNow, Ct);

    private static MachineKey RandomMachine() => MachineKey.FromBytes(RandomNumberGenerator.GetBytes(32));

    private static NodeKey RandomNode() => NodeKey.FromBytes(RandomNumberGenerator.GetBytes(32));

    private static async Task<RunningHost> StartAsync(DatabaseSettings database)
    {
        var host = new HostBuilder()
            .ConfigureServices(services => services.AddHeadscaleActors(new HeadscaleActorsOptions
            {
                Database = database,
                Domain = new DomainSettings { BcryptWorkFactor = 4 },
            }))
            .Build();
        await host.Services.GetRequiredService<JournalDatabase>().PrepareAsync(Ct);
        await host.StartAsync(Ct);
        return new RunningHost(host);
    }

    private sealed class RunningHost(IHost host) : IAsyncDisposable
    {
        public IServiceProvider Services => host.Services;

        public IUserService Users() => Services.GetRequiredService<IUserService>();

        public IPreAuthKeyService Keys() => Services.GetRequiredService<IPreAuthKeyService>();

        public INodeService Nodes() => Services.GetRequiredService<INodeService>();

        public IRegistrationService Registration() => Services.GetRequiredService<IRegistrationService>();

        public async ValueTask DisposeAsync()
        {
            await host.StopAsync(CancellationToken.None);
            host.Dispose();
        }
    }

    /// <summary>Everything observable, flattened to strings so records holding arrays compare by value.</summary>
    private sealed record Snapshot(string[] Users, string[] Keys, string[] Nodes, NodeIndexEntry[] Index)
    {
        public static async Task<Snapshot> TakeAsync(RunningHost host, CancellationToken ct)
        {
            var users = await host.Users().ListAsync(ct);
            var keys = await host.Keys().ListAsync(null, ct);
            var nodes = new List<Node>();
            foreach (var user in users)
            {
                nodes.AddRange(await host.Nodes().ListAsync(user.Id, ct));
            }

            var registry = await host.Services.GetRequiredService<IRequiredActor<NodeRegistrySingleton>>().GetAsync(ct);
            var index = await registry.Ask<NodeRegistryQueries.NodeIndexList>(new NodeRegistryQueries.ListIndex(null, null), TimeSpan.FromSeconds(30), ct);
            return new Snapshot(
                [.. users.Select(u => u.ToString())],
                [.. keys.Select(k => k with { Tags = [] } + string.Join(',', k.Tags))],
                [.. nodes.Select(n => n with { Tags = [] } + string.Join(',', n.Tags))],
                [.. index.Entries]);
        }
    }
}
