using System.Net;
using Headscale.IntegrationTests.Support;

namespace Headscale.IntegrationTests;

/// <summary>/health follows the journal database: fail while PostgreSQL is down, pass once it is back.</summary>
public sealed class PostgresHealthTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Health_fails_while_postgres_is_down_and_recovers_while_the_server_keeps_serving()
    {
        // A server of its own: this test stops it.
        await using var postgres = await PostgresServer.StartNewAsync();
        var database = await postgres.CreateDatabaseAsync("health");
        using var config = new TestServerConfig().UsePostgres(postgres, database);
        await using var server = await ServerProcess.StartAsync(config, Ct);
        await WaitForHealthAsync(server, HttpStatusCode.OK, TimeSpan.FromSeconds(30));
        var key = await server.Http.GetStringAsync("/key?v=106", Ct);

        await postgres.StopAsync();
        await WaitForHealthAsync(server, HttpStatusCode.InternalServerError, TimeSpan.FromSeconds(10));
        using (var failed = await server.Http.GetAsync("/health", Ct))
        {
            Assert.Equal("""{"status":"fail"}""", await failed.Content.ReadAsStringAsync(Ct));
        }

        Assert.Equal(key, await server.Http.GetStringAsync("/key?v=106", Ct));

        await postgres.StartAsync();
        await WaitForHealthAsync(server, HttpStatusCode.OK, TimeSpan.FromSeconds(30));
        Assert.False(server.HasExited);
    }

    private static async Task WaitForHealthAsync(ServerProcess server, HttpStatusCode expected, TimeSpan within)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(within);
        HttpStatusCode last = 0;
        try
        {
            while (true)
            {
                using var response = await server.Http.GetAsync("/health", cts.Token);
                last = response.StatusCode;
                if (last == expected)
                {
                    return;
                }

                await Task.Delay(200, cts.Token);
            }
        }
        catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
        {
            Assert.Fail($"/health did not become {(int)expected} within {within.TotalSeconds} s (last: {(int)last})\n{server.Output}");
        }
    }
}
