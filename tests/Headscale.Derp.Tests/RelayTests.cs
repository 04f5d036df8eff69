using System.Net;
using System.Net.Http;
using Headscale.Derp.Keys;
using Headscale.Derp.Protocol;

namespace Headscale.Derp.Tests;

public sealed class RelayTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, true)]
    [InlineData(false, true)]
    public async Task Two_clients_exchange_packets(bool aOverWebSocket, bool bOverWebSocket)
    {
        await using var host = await DerpTestHost.StartAsync();
        await using var a = await host.ConnectAsync(webSocket: aOverWebSocket);
        await using var b = await host.ConnectAsync(webSocket: bOverWebSocket);
        Assert.Equal(host.Server.PublicKey, a.ServerKey);
        Assert.Equal(2, a.ServerInfo.Version);
        var buffer = new byte[DerpConstants.MaxPacketSize];

        for (var i = 0; i < 50; i++)
        {
            var packet = new byte[1 + i * 20];
            packet[0] = (byte)i;
            await a.SendPacketAsync(b.PublicKey, packet, Ct);
            var received = await TestWait.ReceiveAsync(b, DerpFrameType.RecvPacket, buffer);
            Assert.Equal(a.PublicKey, received.Key);
            Assert.Equal(packet, buffer[..received.Length]);
        }

        await b.SendPacketAsync(a.PublicKey, "pong-ish"u8.ToArray(), Ct);
        var reply = await TestWait.ReceiveAsync(a, DerpFrameType.RecvPacket, buffer);
        Assert.Equal(b.PublicKey, reply.Key);
        Assert.Equal("pong-ish"u8.ToArray(), buffer[..reply.Length]);
    }

    [Fact]
    public async Task A_maximal_packet_is_relayed_intact()
    {
        await using var host = await DerpTestHost.StartAsync();
        await using var a = await host.ConnectAsync();
        await using var b = await host.ConnectAsync();
        var packet = new byte[DerpConstants.MaxPacketSize];
        Random.Shared.NextBytes(packet);
        await a.SendPacketAsync(b.PublicKey, packet, Ct);
        var buffer = new byte[DerpConstants.MaxPacketSize];
        var received = await TestWait.ReceiveAsync(b, DerpFrameType.RecvPacket, buffer);
        Assert.Equal(packet, buffer[..received.Length]);
    }

    [Fact]
    public async Task Ping_is_answered_with_the_same_bytes()
    {
        await using var host = await DerpTestHost.StartAsync();
        await using var a = await host.ConnectAsync();
        await a.PingAsync(0xdeadbeef_cafef00d, Ct);
        var pong = await TestWait.ReceiveAsync(a, DerpFrameType.Pong, new byte[16]);
        Assert.Equal(0xdeadbeef_cafef00dUL, pong.Data);
    }

    [Fact]
    public async Task A_sender_that_leaves_is_reported_gone_to_its_receivers()
    {
        await using var host = await DerpTestHost.StartAsync();
        var a = await host.ConnectAsync();
        await using var b = await host.ConnectAsync();
        var buffer = new byte[1024];
        await a.SendPacketAsync(b.PublicKey, new byte[10], Ct);
        await TestWait.ReceiveAsync(b, DerpFrameType.RecvPacket, buffer);
        var aKey = a.PublicKey;
        await a.DisposeAsync();

        var gone = await TestWait.ReceiveAsync(b, DerpFrameType.PeerGone, buffer);
        Assert.Equal(aKey, gone.Key);
        Assert.Equal(PeerGoneReason.Disconnected, gone.Reason);
        await TestWait.UntilAsync(() => host.Server.ConnectionCount == 1, "the departed client is unregistered");
    }

    [Fact]
    public async Task Disco_packet_to_an_absent_peer_gets_peer_gone_not_here()
    {
        await using var host = await DerpTestHost.StartAsync();
        await using var a = await host.ConnectAsync();
        var absent = DerpPrivateKey.Generate().PublicKey;
        var disco = new byte[DerpConstants.MinDiscoPacketLength + 10];
        DerpConstants.DiscoMagic.CopyTo(disco);
        await a.SendPacketAsync(absent, disco, Ct);
        var gone = await TestWait.ReceiveAsync(a, DerpFrameType.PeerGone, new byte[16]);
        Assert.Equal(absent, gone.Key);
        Assert.Equal(PeerGoneReason.NotHere, gone.Reason);
    }

    [Fact]
    public async Task Duplicate_connection_that_sends_last_receives()
    {
        await using var host = await DerpTestHost.StartAsync();
        var key = DerpPrivateKey.Generate();
        await using var first = await host.ConnectAsync(key);
        await using var second = await host.ConnectAsync(key);
        await using var sender = await host.ConnectAsync();
        var buffer = new byte[64];

        await sender.SendPacketAsync(key.PublicKey, new byte[] { 1 }, Ct);
        Assert.Equal(1, buffer[(await TestWait.ReceiveAsync(second, DerpFrameType.RecvPacket, buffer)).Length - 1]);

        await first.PingAsync(7, Ct);
        await TestWait.ReceiveAsync(first, DerpFrameType.Pong, buffer);
        await sender.SendPacketAsync(key.PublicKey, new byte[] { 2 }, Ct);
        var received = await TestWait.ReceiveAsync(first, DerpFrameType.RecvPacket, buffer);
        Assert.Equal(2, buffer[received.Length - 1]);
    }

    [Fact]
    public async Task Derp_without_upgrade_is_426_and_probes_answer()
    {
        await using var host = await DerpTestHost.StartAsync();
        using var http = new HttpClient { BaseAddress = host.BaseUrl };

        var plain = await http.GetAsync("/derp", Ct);
        Assert.Equal(HttpStatusCode.UpgradeRequired, plain.StatusCode);
        Assert.Equal("DERP requires connection upgrade", await plain.Content.ReadAsStringAsync(Ct));

        foreach (var path in new[] { "/derp/probe", "/derp/latency-check" })
        {
            var probe = await http.GetAsync(path, Ct);
            Assert.Equal(HttpStatusCode.OK, probe.StatusCode);
            Assert.Equal("*", probe.Headers.GetValues("Access-Control-Allow-Origin").Single());
            var head = await http.SendAsync(new HttpRequestMessage(HttpMethod.Head, path), Ct);
            Assert.Equal(HttpStatusCode.OK, head.StatusCode);
            var post = await http.PostAsync(path, null, Ct);
            Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
            Assert.Equal("bogus probe method", await post.Content.ReadAsStringAsync(Ct));
        }
    }

    [Fact]
    public async Task Generate_204_echoes_only_well_formed_challenges()
    {
        await using var host = await DerpTestHost.StartAsync();
        using var http = new HttpClient { BaseAddress = host.BaseUrl };

        var request = new HttpRequestMessage(HttpMethod.Get, "/generate_204");
        request.Headers.Add("X-Tailscale-Challenge", "ts_127.0.0.1");
        var response = await http.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        Assert.Equal("response ts_127.0.0.1", response.Headers.GetValues("X-Tailscale-Response").Single());
        Assert.Contains("no-store", response.Headers.CacheControl!.ToString());

        var bad = new HttpRequestMessage(HttpMethod.Get, "/generate_204");
        bad.Headers.Add("X-Tailscale-Challenge", "bad challenge!");
        var badResponse = await http.SendAsync(bad, Ct);
        Assert.Equal(HttpStatusCode.NoContent, badResponse.StatusCode);
        Assert.False(badResponse.Headers.Contains("X-Tailscale-Response"));
    }

    [Fact]
    public async Task Websocket_without_the_derp_subprotocol_is_closed_with_policy_violation()
    {
        await using var host = await DerpTestHost.StartAsync();
        using var socket = new System.Net.WebSockets.ClientWebSocket();
        socket.Options.AddSubProtocol("notderp");
        await socket.ConnectAsync(host.WebSocketUrl, Ct);
        var result = await socket.ReceiveAsync(new byte[64], Ct);
        Assert.Equal(System.Net.WebSockets.WebSocketMessageType.Close, result.MessageType);
        Assert.Equal(System.Net.WebSockets.WebSocketCloseStatus.PolicyViolation, result.CloseStatus);
    }
}
