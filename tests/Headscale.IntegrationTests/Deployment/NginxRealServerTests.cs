using System.Globalization;
using System.Net;

namespace Headscale.IntegrationTests.Deployment;

/// <summary>Both nginx configs in front of the real server: plain HTTP routes, /health and the hidden /metrics.</summary>
[Collection(NginxFrontedServerCollection.Name)]
public sealed class NginxRealServerTests(NginxFrontedServer fixture)
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Health_is_proxied_without_logging_it_while_other_requests_are_logged(bool production)
    {
        await using var proxy = await ProxiedServer.StartAsync(fixture, production, Ct);

        for (var i = 0; i < 3; i++)
        {
            using var health = await proxy.Http.GetAsync("/health", Ct);
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            Assert.Equal("""{"status":"pass"}""", await health.Content.ReadAsStringAsync(Ct));
        }

        // A logged request after the health checks: once its line is in the log, theirs would be too.
        var marker = "/version?after-health=" + Guid.NewGuid().ToString("N");
        using (var version = await proxy.Http.GetAsync(marker, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, version.StatusCode);
        }

        var log = await NginxLog.WaitForLineAsync(proxy.Nginx.Site.AccessLogPath, marker, Ct);
        Assert.DoesNotContain("/health", log, StringComparison.Ordinal);
        Assert.True(File.Exists(proxy.Nginx.Site.ErrorLogPath), "the error log belongs in logs/nginx/ under the prefix");
    }

    [Fact]
    public async Task The_noise_key_and_version_come_through_unchanged()
    {
        await using var proxy = await ProxiedServer.StartAsync(fixture, production: true, Ct);
        var direct = fixture.Control.Process.Http;

        Assert.Equal(await direct.GetStringAsync("/key?v=106", Ct), await proxy.Http.GetStringAsync("/key?v=106", Ct));
        Assert.Equal(await direct.GetStringAsync("/version", Ct), await proxy.Http.GetStringAsync("/version", Ct));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Metrics_are_reachable_only_on_the_metrics_listener_never_through_nginx(bool production)
    {
        await using var proxy = await ProxiedServer.StartAsync(fixture, production, Ct);
        var metricsPort = fixture.Control.Process.MetricsPort;
        using var direct = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{metricsPort}") };

        using var metrics = await direct.GetAsync("/metrics", Ct);
        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        foreach (var path in new[] { "/metrics", "/metrics/", "/metrics?format=prometheus" })
        {
            using var hidden = await proxy.Http.GetAsync(path, Ct);
            Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        }

        var upstreams = File.ReadAllText(Path.Combine(proxy.Nginx.Site.Prefix, "conf", "upstreams.conf"));
        Assert.DoesNotContain(":" + metricsPort.ToString(CultureInfo.InvariantCulture), proxy.Nginx.Site.ConfigText + upstreams, StringComparison.Ordinal);
    }
}
