using System.Net;
using Headscale.IntegrationTests.Support;

namespace Headscale.IntegrationTests.Deployment;

/// <summary>
/// nginx/nginx.dev.conf, run by the real nginx in front of <see cref="HeaderEchoUpstream"/> for what the real server
/// cannot show (the headers nginx sends, an upstream that does serve /metrics); the streams are tested against the real
/// server in <see cref="NginxControlStreamTests"/>.
/// </summary>
public sealed class NginxDevelopmentTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Proxy_headers_name_the_client_and_a_forged_forwarded_for_is_replaced()
    {
        await using var upstream = await HeaderEchoUpstream.StartAsync(Ct);
        await using var nginx = await NginxProcess.StartAsync(NginxSite.Development(upstream.Port, TestPorts.GetFree()), Ct);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{nginx.Site.HttpPort}") };
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/node");
        request.Headers.Add("X-Forwarded-For", "203.0.113.7");

        using var response = await http.SendAsync(request, Ct);
        var seen = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.StartsWith("upstream: headscale\nGET /api/v1/node\n", seen, StringComparison.Ordinal);
        Assert.Contains("X-Real-IP: 127.0.0.1\n", seen, StringComparison.Ordinal);
        Assert.Contains("X-Forwarded-For: 127.0.0.1\n", seen, StringComparison.Ordinal);
        Assert.Contains("X-Forwarded-Proto: http\n", seen, StringComparison.Ordinal);
        Assert.DoesNotContain("203.0.113.7", seen, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metrics_are_not_proxied_even_though_the_upstream_serves_them()
    {
        await using var upstream = await HeaderEchoUpstream.StartAsync(Ct);
        await using var nginx = await NginxProcess.StartAsync(NginxSite.Development(upstream.Port, TestPorts.GetFree()), Ct);
        using var direct = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{upstream.Port}") };
        using var proxied = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{nginx.Site.HttpPort}") };

        Assert.Equal(HeaderEchoUpstream.MetricsBody, await direct.GetStringAsync("/metrics", Ct));
        foreach (var path in new[] { "/metrics", "/metrics/", "/metrics?format=json" })
        {
            using var response = await proxied.GetAsync(path, Ct);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.DoesNotContain(HeaderEchoUpstream.MetricsBody, await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Development_has_no_rate_limits()
    {
        await using var upstream = await HeaderEchoUpstream.StartAsync(Ct);
        await using var nginx = await NginxProcess.StartAsync(NginxSite.Development(upstream.Port, TestPorts.GetFree()), Ct);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{nginx.Site.HttpPort}") };

        // More than production's burst allowances (api 40, auth 10) at once.
        var statuses = await RequestBurst.SendAsync(http, "/api/v1/node", 80, Ct);
        statuses.AddRange(await RequestBurst.SendAsync(http, "/register/abc", 20, Ct));

        Assert.All(statuses, status => Assert.Equal(HttpStatusCode.OK, status));
    }
}
