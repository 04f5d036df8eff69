using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using Headscale.IntegrationTests.Support;

namespace Headscale.IntegrationTests.Deployment;

/// <summary>nginx/nginx.dev.conf, run by the real nginx in front of <see cref="UpgradeEchoUpstream"/>.</summary>
public sealed class NginxDevelopmentTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Ts2021_upgrade_passes_through_and_the_stream_carries_bytes_both_ways()
    {
        await using var upstream = await UpgradeEchoUpstream.StartAsync(Ct);
        await using var nginx = await NginxProcess.StartAsync(NginxSite.Development(upstream.Port, TestPorts.GetFree()), Ct);

        await using var connection = await UpgradedConnection.OpenAsync(nginx.Site.HttpPort, "/ts2021", "tailscale-control-protocol", tls: null, Ct);

        Assert.Equal(101, connection.StatusCode);
        Assert.Contains("Upgrade: tailscale-control-protocol", connection.ResponseHead, StringComparison.OrdinalIgnoreCase);
        var payload = RandomNumberGenerator.GetBytes(200_000);
        Assert.Equal(payload, await connection.EchoAsync(payload, Ct));
        Assert.Equal("ping"u8.ToArray(), await connection.EchoAsync("ping"u8.ToArray(), Ct));
    }

    [Fact]
    public async Task Derp_websocket_passes_through_and_echoes()
    {
        await using var upstream = await UpgradeEchoUpstream.StartAsync(Ct);
        await using var nginx = await NginxProcess.StartAsync(NginxSite.Development(upstream.Port, TestPorts.GetFree()), Ct);

        using var socket = new ClientWebSocket();
        socket.Options.AddSubProtocol("derp");
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{nginx.Site.HttpPort}/derp"), Ct);

        Assert.Equal(WebSocketState.Open, socket.State);
        var message = RandomNumberGenerator.GetBytes(4096);
        await socket.SendAsync(message, WebSocketMessageType.Binary, endOfMessage: true, Ct);
        var received = new byte[message.Length];
        var total = 0;
        while (total < received.Length)
        {
            var result = await socket.ReceiveAsync(received.AsMemory(total), Ct);
            total += result.Count;
        }

        Assert.Equal(message, received);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, Ct);
    }

    [Fact]
    public async Task Proxy_headers_name_the_client_and_a_forged_forwarded_for_is_replaced()
    {
        await using var upstream = await UpgradeEchoUpstream.StartAsync(Ct);
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
        await using var upstream = await UpgradeEchoUpstream.StartAsync(Ct);
        await using var nginx = await NginxProcess.StartAsync(NginxSite.Development(upstream.Port, TestPorts.GetFree()), Ct);
        using var direct = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{upstream.Port}") };
        using var proxied = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{nginx.Site.HttpPort}") };

        Assert.Equal(UpgradeEchoUpstream.MetricsBody, await direct.GetStringAsync("/metrics", Ct));
        foreach (var path in new[] { "/metrics", "/metrics/", "/metrics?format=json" })
        {
            using var response = await proxied.GetAsync(path, Ct);
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.DoesNotContain(UpgradeEchoUpstream.MetricsBody, await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Development_has_no_rate_limits()
    {
        await using var upstream = await UpgradeEchoUpstream.StartAsync(Ct);
        await using var nginx = await NginxProcess.StartAsync(NginxSite.Development(upstream.Port, TestPorts.GetFree()), Ct);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{nginx.Site.HttpPort}") };

        // More than production's burst allowances (api 40, auth 10) at once.
        var statuses = await RequestBurst.SendAsync(http, "/api/v1/node", 80, Ct);
        statuses.AddRange(await RequestBurst.SendAsync(http, "/register/abc", 20, Ct));

        Assert.All(statuses, status => Assert.Equal(HttpStatusCode.OK, status));
    }
}
