using System.Data.Common;
using Headscale.Actors.Hosting;
using Headscale.Actors.Identity;
using Headscale.Actors.Persistence;
using Headscale.Actors.Serialization;
using Headscale.IntegrationTests.Support;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;

namespace Headscale.IntegrationTests;

/// <summary>
/// A persistent entity's events survive a full restart of the actor system (the host is torn
/// down and built again over the same database), on SQLite and on PostgreSQL.
/// </summary>
public sealed class JournalRecoveryTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Id_allocations_survive_a_restart_on_sqlite()
    {
        using var config = new TestServerConfig();
        var database = new DatabaseSettings { Kind = DatabaseKind.Sqlite, SqlitePath = Path.Combine(config.Directory, "db.sqlite") };

        await AssertAllocationsSurviveRestartAsync(database);

        await using var connection = new SqliteConnection(database.ConnectionString);
        await AssertJournalRowsUseOurSerializerAsync(connection);
    }

    [Fact]
    public async Task Id_allocations_survive_a_restart_on_postgres()
    {
        var name = await postgres.Server.CreateDatabaseAsync("recovery");
        var database = new DatabaseSettings
        {
            Kind = DatabaseKind.Postgres,
            PostgresHost = postgres.Server.Host,
            PostgresPort = postgres.Server.Port,
            PostgresDatabase = name,
            PostgresUser = PostgresServer.User,
        };

        await AssertAllocationsSurviveRestartAsync(database);

        await using var connection = new NpgsqlConnection(postgres.Server.ConnectionString(name));
        await AssertJournalRowsUseOurSerializerAsync(connection);
    }

    private static async Task AssertAllocationsSurviveRestartAsync(DatabaseSettings database)
    {
        var first = await RunAndAllocateAsync(database, IdKind.Node, count: 70);
        Assert.Equal(Enumerable.Range(1, 70).Select(i => (ulong)i), first);

        var second = await RunAndAllocateAsync(database, IdKind.Node, count: 3);
        Assert.All(second, id => Assert.True(id > first.Max(), $"id {id} was handed out before the restart"));
        Assert.Equal(second.Distinct().Count(), second.Count);

        var users = await RunAndAllocateAsync(database, IdKind.User, count: 2);
        Assert.Equal([1UL, 2UL], users);
    }

    private static async Task<List<ulong>> RunAndAllocateAsync(DatabaseSettings database, IdKind kind, int count)
    {
        using var host = new HostBuilder()
            .ConfigureServices(services => services.AddHeadscaleActors(new HeadscaleActorsOptions { Database = database }))
            .Build();
        await host.Services.GetRequiredService<JournalDatabase>().PrepareAsync(Ct);
        await host.StartAsync(Ct);
        var allocator = host.Services.GetRequiredService<IIdAllocator>();
        var ids = new List<ulong>();
        for (var i = 0; i < count; i++)
        {
            ids.Add(await allocator.AllocateAsync(kind, Ct));
        }

        await host.StopAsync(Ct);
        return ids;
    }

    private static async Task AssertJournalRowsUseOurSerializerAsync(DbConnection connection)
    {
        // Pins the schema Akka.Persistence.Sql creates and that events are stored by our serializer.
        await connection.OpenAsync(Ct);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT identifier, manifest, COUNT(*) FROM journal WHERE persistence_id = 'id-allocator' GROUP BY identifier, manifest";
        await using var reader = await command.ExecuteReaderAsync(Ct);
        var rows = new List<(long Identifier, string Manifest, long Count)>();
        while (await reader.ReadAsync(Ct))
        {
            rows.Add((Convert.ToInt64(reader.GetValue(0)), reader.GetString(1), Convert.ToInt64(reader.GetValue(2))));
        }

        var row = Assert.Single(rows);
        Assert.Equal(HeadscaleSerializer.SerializerId, row.Identifier);
        Assert.Equal("ida.r", row.Manifest);
        Assert.Equal(4, row.Count); // 2 node blocks, then 1 more after the restart, and 1 user block
    }
}
