using System.Net;
using Headscale.IntegrationTests.Support;

namespace Headscale.IntegrationTests.Deployment;

/// <summary>The real <c>headscale serve</c> and a test certificate, shared by a test class.</summary>
public sealed class HeadscaleServerFixture : IAsyncLifetime
{
    private TestServerConfig? _config;
    private ServerProcess? _server;
    private NginxCertificate? _certificate;

    public ServerProcess Server => _server ?? throw new InvalidOperationException("not initialized");

    public NginxCertificate Certificate => _certificate ?? throw new InvalidOperationException("not initialized");

    public async ValueTask InitializeAsync()
    {
        _config = new TestServerConfig();
        _server = await ServerProcess.StartAsync(_config, TestContext.Current.CancellationToken);
        _certificate = await NginxCertificate.CreateAsync(TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _config?.Dispose();
        _certificate?.Dispose();
    }
}

/// <summary>Both nginx configs in front of the real server: what the server serves today works through them.</summary>
public sealed class NginxRealServerTests(HeadscaleServerFixture fixture) : IClassFixture<HeadscaleServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Development_proxies_health_without_logging_it_and_logs_other_requests()
    {
        await using var nginx = await NginxProcess.StartAsync(NginxSite.Development(fixture.Server.Port, TestPorts.GetFree()), Ct);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{nginx.Site.HttpPort}"), Timeout = TimeSpan.FromSeconds(15) };

        await AssertHealthIsProxiedButNotLoggedAsync(http, nginx.Site);
    }

    [Fact]
    public async Task Production_proxies_health_over_tls_without_logging_it_and_logs_other_requests()
    {
        await using var nginx = await NginxProcess.StartAsync(NginxSite.Production(fixture.Server.Port, TestPorts.GetFree(), fixture.Certificate), Ct);
        using var https = fixture.Certificate.CreateHttpClient(new Uri($"https://127.0.0.1:{nginx.Site.HttpsPort}"));

        await AssertHealthIsProxiedButNotLoggedAsync(https, nginx.Site);
    }

    [Fact]
    public async Task The_noise_key_and_version_come_through_unchanged()
    {
        await using var nginx = await NginxProcess.StartAsync(NginxSite.Production(fixture.Server.Port, TestPorts.GetFree(), fixture.Certificate), Ct);
        using var https = fixture.Certificate.CreateHttpClient(new Uri($"https://127.0.0.1:{nginx.Site.HttpsPort}"));

        Assert.Equal(await fixture.Server.Http.GetStringAsync("/key?v=106", Ct), await https.GetStringAsync("/key?v=106", Ct));
        Assert.Equal(await fixture.Server.Http.GetStringAsync("/version", Ct), await https.GetStringAsync("/version", Ct));
    }

    [Fact]
    public async Task Metrics_are_reachable_only_on_the_metrics_listener_never_through_nginx()
    {
        await using var dev = await NginxProcess.StartAsync(NginxSite.Development(fixture.Server.Port, TestPorts.GetFree()), Ct);
        using var direct = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{fixture.Server.MetricsPort}") };
        using var proxied = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{dev.Site.HttpPort}") };

        using var metrics = await direct.GetAsync("/metrics", Ct);
        using var hidden = await proxied.GetAsync("/metrics", Ct);

        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, hidden.StatusCode);
        Assert.DoesNotContain(fixture.Server.MetricsPort.ToString(System.Globalization.CultureInfo.InvariantCulture), dev.Site.ConfigText, StringComparison.Ordinal);
    }

    private static async Task AssertHealthIsProxiedButNotLoggedAsync(HttpClient http, NginxSite site)
    {
        for (var i = 0; i < 3; i++)
        {
            using var health = await http.GetAsync("/health", Ct);
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            Assert.Equal("""{"status":"pass"}""", await health.Content.ReadAsStringAsync(Ct));
        }

        // A logged request after the health checks: once its line is in the log, theirs would be too.
        var marker = "/version?after-health=" + Guid.NewGuid().ToString("N");
        using (var version = await http.GetAsync(marker, Ct))
        {
            Assert.Equal(HttpStatusCode.OK, version.StatusCode);
        }

        var log = await WaitForLogLineAsync(site.AccessLogPath, marker);
        Assert.DoesNotContain("/health", log, StringComparison.Ordinal);
        Assert.True(File.Exists(site.ErrorLogPath), "the error log belongs in logs/nginx/ under the prefix");
    }

    private static async Task<string> WaitForLogLineAsync(string path, string expected)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TimeSpan.FromSeconds(10));
        while (true)
        {
            var text = File.Exists(path) ? await File.ReadAllTextAsync(path, cts.Token) : "";
            if (text.Contains(expected, StringComparison.Ordinal))
            {
                return text;
            }

            try
            {
                await Task.Delay(20, cts.Token);
            }
            catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
            {
                Assert.Fail($"{expected} never reached {path}; the log holds:\n{text}");
            }
        }
    }
}
