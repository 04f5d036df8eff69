using System.Net;
using System.Text.Json.Nodes;
using Headscale.Derp.Client;
using Headscale.Derp.Keys;
using Headscale.Derp.Protocol;
using Headscale.Protocol.Client;
using static Headscale.IntegrationTests.ControlPlane.NetworkMapOverNoiseTests;

namespace Headscale.IntegrationTests.Deployment;

/// <summary>
/// The long-lived connections through both nginx configs to the real server: the ts2021 upgrade with a map stream on
/// it, DERP over the HTTP upgrade and over WebSocket, and an open map stream that a rate-limit burst must not touch.
/// </summary>
[Collection(NginxFrontedServerCollection.Name)]
public sealed class NginxControlStreamTests(NginxFrontedServer fixture)
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(45);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    public async Task Nodes_register_and_follow_their_map_stream_over_ts2021_through_nginx(bool production, bool webSocket)
    {
        await using var proxy = await ProxiedServer.StartAsync(fixture, production, Ct);
        Assert.Equal(proxy.ServerNoiseKey, await Ts2021Client.FetchServerKeyAsync(proxy.Http, proxy.Url, ControlNode.DefaultCapabilityVersion, Ct));
        var user = await fixture.Control.CreateUserAsync("nginx");

        using (var a = await proxy.RegisteredNodeAsync(user, webSocket, Ct))
        using (var b = await proxy.RegisteredNodeAsync(user, webSocket, Ct))
        {
            await using var stream = await a.StreamMapAsync(Ct);
            var full = (await stream.ReadAsync(Ct).WaitAsync(Wait, Ct))!;
            Assert.Equal(a.NodeKey, full["Node"]!["Key"]!.GetValue<string>());
            Assert.Contains(b.NodeKey, PeerKeys(full["Peers"]));

            using var c = await proxy.RegisteredNodeAsync(user, webSocket, Ct);
            await stream.ReadUntilAsync(f => PeerKeys(f["PeersChanged"]).Contains(c.NodeKey), Ct).WaitAsync(Wait, Ct);
            var keepAlive = await stream.ReadUntilAsync(IsKeepAlive, Ct).WaitAsync(Wait, Ct);
            Assert.Null(keepAlive["Peers"]);
            Assert.Equal(1, a.Transport.ConnectionCount);
        }

        // nginx logs an upgraded connection when it closes: all three nodes' connections were upgraded through it.
        var method = webSocket ? "\"GET /ts2021?" : "\"POST /ts2021 ";
        await NginxLog.WaitForLinesAsync(proxy.Nginx.Site.AccessLogPath, $"{method}… 101",
            line => line.Contains(method, StringComparison.Ordinal) && line.Contains("HTTP/1.1\" 101 ", StringComparison.Ordinal), 3, Ct);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Derp_upgrade_and_websocket_clients_relay_packets_through_nginx_to_the_embedded_relay(bool production)
    {
        await using var proxy = await ProxiedServer.StartAsync(fixture, production, Ct);
        var options = new DerpClientOptions { InsecureSkipVerify = production };
        var direct = new Uri($"http://127.0.0.1:{fixture.Control.Process.Port}/derp");
        DerpPublicKey relayKey;
        await using (var reference = await DerpClient.ConnectAsync(direct, DerpPrivateKey.Generate(), cancellationToken: Ct))
        {
            relayKey = reference.ServerKey;
        }

        await using (var upgrade = await DerpClient.ConnectAsync(proxy.UrlOf("/derp", "http", "https"), DerpPrivateKey.Generate(), options, Ct))
        await using (var webSocket = await DerpClient.ConnectAsync(proxy.UrlOf("/derp", "ws", "wss"), DerpPrivateKey.Generate(), options, Ct))
        {
            Assert.Equal(relayKey, upgrade.ServerKey);
            Assert.Equal(relayKey, webSocket.ServerKey);
            var buffer = new byte[DerpConstants.MaxPacketSize];
            foreach (var size in new[] { 1, 1400, DerpConstants.MaxPacketSize })
            {
                var packet = new byte[size];
                Random.Shared.NextBytes(packet);
                await upgrade.SendPacketAsync(webSocket.PublicKey, packet, Ct);
                var received = await ReceivePacketAsync(webSocket, buffer);
                Assert.Equal(upgrade.PublicKey, received.Key);
                Assert.Equal(packet, buffer[..received.Length]);

                await webSocket.SendPacketAsync(upgrade.PublicKey, packet, Ct);
                received = await ReceivePacketAsync(upgrade, buffer);
                Assert.Equal(webSocket.PublicKey, received.Key);
                Assert.Equal(packet, buffer[..received.Length]);
            }
        }

        await NginxLog.WaitForLinesAsync(proxy.Nginx.Site.AccessLogPath, "GET /derp … 101",
            line => line.Contains("\"GET /derp HTTP/1.1\" 101 ", StringComparison.Ordinal), 2, Ct);
    }

    [Fact]
    public async Task A_burst_on_a_rate_limited_path_is_refused_while_an_open_map_stream_keeps_delivering()
    {
        await using var proxy = await ProxiedServer.StartAsync(fixture, production: true, Ct);
        var user = await fixture.Control.CreateUserAsync("burst");
        using var a = await proxy.RegisteredNodeAsync(user, webSocket: false, Ct);
        await using var stream = await a.StreamMapAsync(Ct);
        await stream.ReadAsync(Ct).WaitAsync(Wait, Ct);
        HttpStatusCode unlimited;
        using (var answer = await fixture.Control.Process.Http.GetAsync("/api/v1/node", Ct))
        {
            unlimited = answer.StatusCode; // what the server itself says to a request without an API key
        }

        using var stop = new CancellationTokenSource();
        var limited = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var burst = KeepBurstingAsync(proxy.Http, limited, stop.Token);
        List<HttpStatusCode> statuses;
        try
        {
            // Everything the stream delivers from here on arrives while new API requests are being refused.
            await AwaitLimitedAsync(limited.Task);
            await stream.ReadUntilAsync(IsKeepAlive, Ct).WaitAsync(Wait, Ct);
            using var b = await proxy.RegisteredNodeAsync(user, webSocket: false, Ct);
            await stream.ReadUntilAsync(f => PeerKeys(f["PeersChanged"]).Contains(b.NodeKey), Ct).WaitAsync(Wait, Ct);
        }
        finally
        {
            await stop.CancelAsync();
            statuses = await burst;
        }

        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        Assert.All(statuses, s => Assert.True(s == HttpStatusCode.TooManyRequests || s == unlimited, $"unexpected {s}"));

        // After the burst the same stream, on the same connection, is still alive.
        await stream.ReadUntilAsync(IsKeepAlive, Ct).WaitAsync(Wait, Ct);
        Assert.Equal(1, a.Transport.ConnectionCount);
    }

    /// <summary>
    /// Rounds of 20 concurrent API requests every 100 ms (200 per second against the api tier's 10) until stopped;
    /// <paramref name="limited"/> completes once a whole round has been answered and some of it refused.
    /// The pace only keeps the burst from starving the machine; nothing waits on it.
    /// </summary>
    private static async Task<List<HttpStatusCode>> KeepBurstingAsync(HttpClient http, TaskCompletionSource limited, CancellationToken stop)
    {
        var statuses = new List<HttpStatusCode>();
        using var pace = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        try
        {
            do
            {
                var round = await RequestBurst.SendAsync(http, "/api/v1/node", 20, stop);
                statuses.AddRange(round);
                if (round.Contains(HttpStatusCode.TooManyRequests))
                {
                    limited.TrySetResult();
                }
            }
            while (await pace.WaitForNextTickAsync(stop));
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
        }

        return statuses;
    }

    private static async Task AwaitLimitedAsync(Task limited)
    {
        try
        {
            await limited.WaitAsync(Wait, Ct);
        }
        catch (TimeoutException)
        {
            Assert.Fail($"no request of a burst on /api/v1/node was refused with 429 within {Wait.TotalSeconds} s: the api tier does not limit");
        }
    }

    private static bool IsKeepAlive(JsonObject frame) => frame["KeepAlive"]?.GetValue<bool>() == true;

    private static async Task<DerpReceived> ReceivePacketAsync(DerpClient client, Memory<byte> buffer)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(Wait);
        while (true)
        {
            var frame = await client.ReceiveAsync(buffer, cts.Token);
            if (frame.Type == DerpFrameType.RecvPacket)
            {
                return frame;
            }
        }
    }
}
