using Headscale.Api.Management;
using Headscale.IntegrationTests.Support;
using Headscale.Management.V1;

namespace Headscale.IntegrationTests;

/// <summary>On PostgreSQL the scrape also carries Npgsql's connection pool usage, promtool-clean and without the password.</summary>
public sealed class ObservabilityPostgresTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Scrape_on_postgres_reports_connection_pool_usage()
    {
        var database = await postgres.Server.CreateDatabaseAsync("metrics");
        // The test server trusts local connections, so the password is never checked: it is here to
        // prove it does not leak into pool names or labels.
        var password = "pw-" + Guid.NewGuid().ToString("N");
        using var config = new TestServerConfig
        {
            Extra = $"""
                database:
                  type: postgres
                  postgres:
                    host: {postgres.Server.Host}
                    port: {postgres.Server.Port}
                    name: {database}
                    user: {PostgresServer.User}
                    pass: {password}

                """,
        };
        await using var server = await ServerProcess.StartAsync(config, Ct);
        using var local = ManagementClientConnection.Open(new ManagementClientOptions(null, null, false, config.SocketPath, TimeSpan.FromSeconds(60)));
        await local.Client.CreateUserAsync(new CreateUserRequest { Name = "pool-user" }, cancellationToken: Ct);

        using var metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.MetricsPort}") };
        var text = await metrics.GetStringAsync("/metrics", Ct);
        var samples = ObservabilityTests.Parse(text);

        var check = await ObservabilityTests.PromtoolCheckAsync(text);
        Assert.True(check.ExitCode == 0 && check.Output.Length == 0, $"promtool check metrics: exit {check.ExitCode}\n{check.Output}");
        var pool = samples.Where(s => s.Key.StartsWith("headscale_db_", StringComparison.Ordinal)).ToList();
        Assert.True(pool.Count > 0, "no headscale_db_* series in the scrape:\n" + text);
        TestContext.Current.TestOutputHelper?.WriteLine(string.Join('\n', pool.Select(s => $"{s.Key} {s.Value}")));
        // The journal stored the user through the pool, so some connection exists (idle or in use).
        Assert.Contains(pool, s => s.Key.StartsWith("headscale_db_connections{", StringComparison.Ordinal) && s.Value > 0);
        Assert.DoesNotContain(password, text);
    }
}
