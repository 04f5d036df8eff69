using System.Net;
using System.Text.Json;
using Headscale.IntegrationTests.Support;

namespace Headscale.IntegrationTests;

/// <summary>The real server process on the embedded SQLite default.</summary>
public sealed class ServerLifecycleTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Health_passes_and_answers_health_json()
    {
        using var config = new TestServerConfig();
        await using var server = await ServerProcess.StartAsync(config, Ct);

        using var response = await server.Http.GetAsync("/health", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/health+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("""{"status":"pass"}""", await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task Key_is_created_0600_and_stays_the_same_across_restarts()
    {
        using var config = new TestServerConfig();
        string first;
        await using (var server = await ServerProcess.StartAsync(config, Ct))
        {
            first = await server.Http.GetStringAsync("/key?v=106", Ct);
            Assert.Equal(0, await server.StopAsync(TimeSpan.FromSeconds(30)));
        }

        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(config.NoiseKeyPath));
        using var doc = JsonDocument.Parse(first);
        Assert.Equal("mkey:" + new string('0', 64), doc.RootElement.GetProperty("legacyPublicKey").GetString());
        Assert.Matches("^mkey:[0-9a-f]{64}$", doc.RootElement.GetProperty("publicKey").GetString());

        await using (var server = await ServerProcess.StartAsync(config, Ct))
        {
            Assert.Equal(first, await server.Http.GetStringAsync("/key?v=106", Ct));
        }
    }

    [Fact]
    public async Task Corrupt_key_file_stops_the_start_and_is_not_replaced()
    {
        using var config = new TestServerConfig();
        File.WriteAllText(config.NoiseKeyPath, "privkey:not-a-key");

        var exception = await Assert.ThrowsAsync<InvalidOperationException>(() => ServerProcess.StartAsync(config, Ct));

        Assert.Contains("noise.private_key_path", exception.Message);
        Assert.Contains("corrupt", exception.Message);
        Assert.Equal("privkey:not-a-key", File.ReadAllText(config.NoiseKeyPath));
    }

    [Theory]
    [InlineData("/key", HttpStatusCode.BadRequest)]
    [InlineData("/key?v=abc", HttpStatusCode.BadRequest)]
    [InlineData("/key?v=12", HttpStatusCode.BadRequest)]
    [InlineData("/metrics", HttpStatusCode.NotFound)]
    [InlineData("/no-such-page", HttpStatusCode.NotFound)]
    public async Task Bad_or_foreign_requests_on_the_main_listener(string path, HttpStatusCode expected)
    {
        using var config = new TestServerConfig();
        await using var server = await ServerProcess.StartAsync(config, Ct);

        using var response = await server.Http.GetAsync(path, Ct);

        Assert.Equal(expected, response.StatusCode);
    }

    [Fact]
    public async Task Version_robots_and_metrics_listener()
    {
        using var config = new TestServerConfig();
        await using var server = await ServerProcess.StartAsync(config, Ct);

        using var version = JsonDocument.Parse(await server.Http.GetStringAsync("/version", Ct));
        Assert.StartsWith("v0.27", version.RootElement.GetProperty("version").GetString());
        Assert.Equal("User-agent: *\nDisallow: /\n", await server.Http.GetStringAsync("/robots.txt", Ct));

        using var metricsClient = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.MetricsPort}") };
        var metrics = await metricsClient.GetStringAsync("/metrics", Ct);
        Assert.Contains("# TYPE process_cpu_seconds_total counter", metrics);
        using var healthOnMetrics = await metricsClient.GetAsync("/health", Ct);
        Assert.Equal(HttpStatusCode.NotFound, healthOnMetrics.StatusCode);
    }

    [Fact]
    public async Task Request_metrics_are_labelled_by_route_template_not_raw_path()
    {
        using var config = new TestServerConfig();
        await using var server = await ServerProcess.StartAsync(config, Ct);
        using var metricsClient = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.MetricsPort}") };

        await server.Http.GetStringAsync("/key?v=106", Ct);
        await server.Http.GetStringAsync("/key?v=107", Ct);
        using var missing = await server.Http.GetAsync("/nothing/here/123", Ct);
        var metrics = await metricsClient.GetStringAsync("/metrics", Ct);

        Assert.Matches("""headscale_http_requests_total\{code="200",method="GET",path="/key"\} [2-9]""", metrics);
        Assert.Contains("""headscale_http_requests_total{code="404",method="GET",path="(unmatched)"}""", metrics);
        Assert.Contains("""headscale_http_duration_seconds_bucket{path="/key",le="0.005"}""", metrics);
        Assert.DoesNotContain("/nothing/here", metrics);
        Assert.DoesNotContain("v=106", metrics);
        Assert.Contains("GET /key 200", server.Output);
    }

    [Fact]
    public async Task Sigterm_leaves_the_cluster_and_exits_cleanly()
    {
        using var config = new TestServerConfig();
        await using var server = await ServerProcess.StartAsync(config, Ct);

        var exitCode = await server.StopAsync(TimeSpan.FromSeconds(30));

        Assert.Equal(0, exitCode);
        Assert.Contains("Exiting completed", server.Output);
        Assert.Contains("Remoting shut down", server.Output);
    }
}
