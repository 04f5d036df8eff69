using System.Net;
using System.Net.Sockets;
using Headscale.Derp.Client;
using Headscale.Derp.Keys;
using Headscale.Derp.Protocol;
using Headscale.Derp.Stun;
using Headscale.IntegrationTests.Support;

namespace Headscale.IntegrationTests;

/// <summary>
/// The embedded DERP relay and STUN responder of the real <c>headscale serve</c> process: packets relayed between an
/// HTTP-upgrade client and a WebSocket client, STUN on <c>derp.server.stun_listen_addr</c>, and <c>verify_clients</c>
/// refusing unknown node keys.
/// </summary>
public sealed class DerpRelayEndToEndTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static TestServerConfig DerpConfig(bool verifyClients, out int stunPort)
    {
        stunPort = TestPorts.GetFree();
        return new TestServerConfig
        {
            Extra = $"""
                derp:
                  server:
                    enabled: true
                    verify_clients: {(verifyClients ? "true" : "false")}
                    stun_listen_addr: 127.0.0.1:{stunPort}
                    private_key_path: derp_server_private.key

                """,
        };
    }

    private static async Task<DerpReceived> ReceiveAsync(DerpClient client, DerpFrameType type, Memory<byte> buffer)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(Timeout);
        while (true)
        {
            var frame = await client.ReceiveAsync(buffer, cts.Token);
            if (frame.Type == type) return frame;
        }
    }

    /// <summary>The <c>headscale_derp_connections</c> gauge, or null while /metrics does not show it yet.</summary>
    private static async Task<(double? Value, string Dump)> DerpConnectionsGaugeAsync(HttpClient metrics)
    {
        var text = await metrics.GetStringAsync("/metrics", Ct);
        var lines = text.Split('\n').Where(l => l.Contains("derp", StringComparison.OrdinalIgnoreCase)).ToArray();
        foreach (var line in lines)
            if (line.StartsWith("headscale_derp_connections", StringComparison.Ordinal) && line.Split(' ') is [var name, var value]
                && (name == "headscale_derp_connections" || name.StartsWith("headscale_derp_connections{", StringComparison.Ordinal)))
                return (double.Parse(value, System.Globalization.CultureInfo.InvariantCulture), "");
        return (null, string.Join("\n", lines));
    }

    /// <summary>Scrapes until the gauge reads <paramref name="expected"/> (the exporter attaches on its first scrape).</summary>
    private static async Task AwaitGaugeAsync(HttpClient metrics, double expected)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        var deadline = DateTime.UtcNow + Timeout;
        while (true)
        {
            var (value, dump) = await DerpConnectionsGaugeAsync(metrics);
            if (value == expected) return;
            if (DateTime.UtcNow > deadline)
                Assert.Fail($"headscale_derp_connections is {value?.ToString() ?? "absent"}, expected {expected}; DERP lines:\n{dump}");
            await timer.WaitForNextTickAsync(Ct);
        }
    }

    [Fact]
    public async Task An_upgrade_client_and_a_websocket_client_exchange_packets_through_the_server()
    {
        using var config = DerpConfig(verifyClients: false, out _);
        await using var server = await ServerProcess.StartAsync(config, Ct);
        using var metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.MetricsPort}") };

        var upgradeUrl = new Uri($"http://127.0.0.1:{server.Port}/derp");
        var webSocketUrl = new Uri($"ws://127.0.0.1:{server.Port}/derp");
        var a = await DerpClient.ConnectAsync(upgradeUrl, DerpPrivateKey.Generate(), cancellationToken: Ct);
        var b = await DerpClient.ConnectAsync(webSocketUrl, DerpPrivateKey.Generate(), cancellationToken: Ct);
        try
        {
            Assert.Equal(a.ServerKey, b.ServerKey);
            Assert.Equal(2, a.ServerInfo.Version);
            var buffer = new byte[DerpConstants.MaxPacketSize];
            foreach (var size in new[] { 1, 1200, 1400, DerpConstants.MaxPacketSize })
            {
                var packet = new byte[size];
                Random.Shared.NextBytes(packet);
                await a.SendPacketAsync(b.PublicKey, packet, Ct);
                var received = await ReceiveAsync(b, DerpFrameType.RecvPacket, buffer);
                Assert.Equal(a.PublicKey, received.Key);
                Assert.Equal(packet, buffer[..received.Length]);

                await b.SendPacketAsync(a.PublicKey, packet, Ct);
                received = await ReceiveAsync(a, DerpFrameType.RecvPacket, buffer);
                Assert.Equal(b.PublicKey, received.Key);
                Assert.Equal(packet, buffer[..received.Length]);
            }
            await AwaitGaugeAsync(metrics, 2);
        }
        finally
        {
            await a.DisposeAsync();
            await b.DisposeAsync();
        }
        await AwaitGaugeAsync(metrics, 0);
    }

    [Fact]
    public async Task Stun_on_the_configured_udp_port_answers_with_the_senders_address()
    {
        using var config = DerpConfig(verifyClients: false, out var stunPort);
        await using var server = await ServerProcess.StartAsync(config, Ct);

        using var socket = new Socket(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        var stun = new IPEndPoint(IPAddress.Loopback, stunPort);
        await socket.SendToAsync(new byte[] { 1, 2, 3 }, SocketFlags.None, stun, Ct);

        var id = System.Security.Cryptography.RandomNumberGenerator.GetBytes(StunMessage.TransactionIdLength);
        var request = new byte[40];
        StunMessage.WriteBindingRequest(request, id);
        await socket.SendToAsync(request, SocketFlags.None, stun, Ct);

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(Timeout);
        var buffer = new byte[1500];
        var length = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
        Assert.True(StunMessage.TryParseBindingResponse(buffer.AsSpan(0, length), id, out var mapped),
            "the first reply answers the good request; the malformed datagram before it gets none");
        Assert.Equal((IPEndPoint)socket.LocalEndPoint!, mapped);
    }

    [Fact]
    public async Task With_verify_clients_a_node_key_the_tailnet_does_not_know_is_refused()
    {
        using var config = DerpConfig(verifyClients: true, out _);
        await using var server = await ServerProcess.StartAsync(config, Ct);

        foreach (var url in new[] { $"http://127.0.0.1:{server.Port}/derp", $"ws://127.0.0.1:{server.Port}/derp" })
        {
            var error = await Record.ExceptionAsync(() => DerpClient.ConnectAsync(new Uri(url), DerpPrivateKey.Generate(), cancellationToken: Ct));
            Assert.True(error is DerpProtocolException or IOException or System.Net.WebSockets.WebSocketException,
                $"an unknown node key must not complete the DERP handshake at {url}, got {error?.GetType().Name ?? "a connection"}");
        }
    }
}
