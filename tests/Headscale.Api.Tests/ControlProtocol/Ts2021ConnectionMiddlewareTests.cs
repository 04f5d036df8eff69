using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Headscale.Api.ControlProtocol;
using Headscale.Protocol.Keys;
using Headscale.Protocol.Noise;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Headscale.Api.Tests.ControlProtocol;

/// <summary>
/// Plain upgrades are taken off the connection before Kestrel's HTTP/1.1 server makes a request of them; everything
/// else reaches that server with every byte still unread.
/// </summary>
public sealed class Ts2021ConnectionMiddlewareTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_client_s_upgrade_never_becomes_a_request_of_the_http_server()
    {
        await using var server = await Ts2021TestServer.StartAsync();
        using (var client = server.CreateClient())
        {
            using var response = await client.Http.SendAsync(client.CreateRequest(HttpMethod.Get, "/machine/whoami"), Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(1, server.Statistics.UpgradesTakenFromConnection);
        Assert.Equal(0, server.UpgradeRequestsInPipeline);
        await server.AssertNoConnectionsLeftAsync();
    }

    [Fact]
    public async Task Without_the_connection_middleware_the_same_upgrade_is_a_request()
    {
        await using var server = await Ts2021TestServer.StartAsync(upgradesFromConnection: false);
        using (var client = server.CreateClient())
        {
            using var response = await client.Http.SendAsync(client.CreateRequest(HttpMethod.Get, "/machine/whoami"), Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(0, server.Statistics.UpgradesTakenFromConnection);
        Assert.Equal(1, server.UpgradeRequestsInPipeline);
    }

    [Fact]
    public async Task An_upgrade_after_another_request_on_the_same_connection_is_served_by_the_http_server()
    {
        await using var server = await Ts2021TestServer.StartAsync();
        using var tcp = new TcpClient { NoDelay = true };
        await tcp.ConnectAsync(server.Url.Host, server.Port, Ct);
        var stream = tcp.GetStream();
        var received = new List<byte>();

        await stream.WriteAsync("GET /public HTTP/1.1\r\nHost: test\r\n\r\n"u8.ToArray(), Ct);
        await ReadUntilAsync(stream, received, "public");

        var initiation = new byte[NoiseMessages.InitiationSize];
        using var initiator = NoiseHandshake.Initiate(142, MachinePrivateKey.Generate(), server.NoiseKey.PublicKey, initiation);
        received.Clear();
        await stream.WriteAsync(Encoding.ASCII.GetBytes(
            "POST /ts2021 HTTP/1.1\r\nHost: test\r\nUpgrade: tailscale-control-protocol\r\nConnection: upgrade\r\n"
            + $"X-Tailscale-Handshake: {Convert.ToBase64String(initiation)}\r\nContent-Length: 0\r\n\r\n"), Ct);
        await ReadUntilAsync(stream, received, "\r\n\r\n");

        Assert.StartsWith("HTTP/1.1 101", Encoding.ASCII.GetString([.. received]), StringComparison.Ordinal);
        Assert.Equal(1, server.UpgradeRequestsInPipeline);
        Assert.Equal(0, server.Statistics.UpgradesTakenFromConnection);
    }

    [Theory]
    [InlineData(true, "127.0.0.0/8", "198.51.100.7:0")]
    [InlineData(false, "127.0.0.0/8", "198.51.100.7:0")]
    [InlineData(true, "192.0.2.0/24", null)]
    [InlineData(false, "192.0.2.0/24", null)]
    public async Task Inner_requests_see_the_client_address_a_trusted_proxy_forwarded_on_either_path(
        bool upgradesFromConnection, string trustedNetwork, string? expected)
    {
        await using var server = await Ts2021TestServer.StartAsync(
            upgradesFromConnection: upgradesFromConnection,
            forwardedHeaders: options =>
            {
                options.ForwardedHeaders = ForwardedHeaders.XForwardedFor;
                options.KnownProxies.Clear();
                options.KnownIPNetworks.Clear();
                options.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(trustedNetwork));
                options.ForwardLimit = 1;
            });
        using var client = server.CreateClient(extraUpgradeHeaders: ["X-Forwarded-For: 10.9.8.7, 198.51.100.7"]);
        using var response = await client.Http.SendAsync(client.CreateRequest(HttpMethod.Get, "/machine/remote"), Ct);
        var remote = await response.Content.ReadAsStringAsync(Ct);

        if (expected is null)
        {
            Assert.StartsWith("127.0.0.1:", remote, StringComparison.Ordinal);
            Assert.NotEqual("127.0.0.1:0", remote);
        }
        else
        {
            Assert.Equal(expected, remote);
        }

        Assert.Equal(upgradesFromConnection ? 1 : 0, server.Statistics.UpgradesTakenFromConnection);
    }

    [Theory]
    [InlineData("X-Forwarded-For: 198.51.100.7\r\nX-Injected: 1")]
    [InlineData("X-Forwarded-For 198.51.100.7")]
    public async Task The_client_refuses_an_extra_upgrade_header_that_is_not_one_field_line(string line)
    {
        await using var server = await Ts2021TestServer.StartAsync();
        var options = new Headscale.Protocol.Client.Ts2021ClientOptions
        {
            ServerUrl = server.Url,
            MachineKey = MachinePrivateKey.Generate(),
            ServerKey = server.NoiseKey.PublicKey,
            ExtraUpgradeHeaders = [line],
        };

        var refused = await Assert.ThrowsAsync<ArgumentException>(() => Headscale.Protocol.Client.Ts2021Connection.ConnectAsync(options, Ct));
        Assert.Contains("extra upgrade header", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Another_request_reaches_the_http_server_whole_and_at_once()
    {
        var request = "GET /key?v=142 HTTP/1.1\r\nHost: a\r\n\r\n";
        var (handedOver, seen) = await RunAsync(request);

        Assert.True(handedOver);
        Assert.Equal(request, seen);
    }

    [Fact]
    public async Task A_head_that_looked_like_an_upgrade_over_several_reads_is_handed_over_whole()
    {
        // The first read examined everything it saw and waited for more; the HTTP/1.1 server still gets every byte at once.
        var first = "POST /ts2021 HTTP/1.1\r\nHost: a\r\n";
        var rest = "Upgrade: websocket\r\nConnection: upgrade\r\n\r\n";
        var (handedOver, seen) = await RunAsync(first, rest);

        Assert.True(handedOver);
        Assert.Equal(first + rest, seen);
    }

    [Fact]
    public async Task A_head_that_stops_halfway_is_closed_after_the_headers_timeout()
    {
        var (handedOver, _) = await RunAsync("POST /ts2021 HTTP/1.1\r\nHost: a\r\n", headersTimeout: TimeSpan.FromMilliseconds(100));

        Assert.False(handedOver);
    }

    [Fact]
    public async Task A_client_that_leaves_halfway_through_the_head_is_closed()
    {
        var (handedOver, _) = await RunAsync(["POST /ts2021 HTTP/1.1\r\nHost: a\r\n"], complete: true);

        Assert.False(handedOver);
    }

    /// <summary>
    /// Runs the middleware on an in-memory connection fed <paramref name="pieces"/> one flush at a time (each is read before
    /// the next is written: the reader runs inline); the next middleware records what its first read returns.
    /// </summary>
    private static Task<(bool HandedOver, string Seen)> RunAsync(params string[] pieces) => RunAsync(pieces, complete: false);

    private static Task<(bool HandedOver, string Seen)> RunAsync(string piece, TimeSpan headersTimeout) =>
        RunAsync([piece], complete: false, headersTimeout);

    private static async Task<(bool HandedOver, string Seen)> RunAsync(string[] pieces, bool complete, TimeSpan? headersTimeout = null)
    {
        var inline = new PipeOptions(readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline, useSynchronizationContext: false);
        var input = new Pipe(inline);
        var output = new Pipe(inline);
        var connection = new DefaultConnectionContext("test", new DuplexPipe(input.Reader, output.Writer), new DuplexPipe(output.Reader, input.Writer));
        await using var services = new ServiceCollection()
            .Configure<KestrelServerOptions>(options => options.Limits.RequestHeadersTimeout = headersTimeout ?? TimeSpan.FromSeconds(30))
            .BuildServiceProvider();
        string? seen = null;
        var middleware = new Ts2021ConnectionMiddleware(
            async handed =>
            {
                // Must not wait for more bytes: the middleware left everything unexamined.
                var result = await handed.Transport.Input.ReadAsync(Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(10), Ct);
                seen = Encoding.ASCII.GetString(result.Buffer);
                handed.Transport.Input.AdvanceTo(result.Buffer.End);
            },
            services);

        var running = middleware.OnConnectionAsync(connection);
        foreach (var piece in pieces)
        {
            await input.Writer.WriteAsync(Encoding.ASCII.GetBytes(piece), Ct);
        }

        if (complete)
        {
            await input.Writer.CompleteAsync();
        }

        await running.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        return (seen is not null, seen ?? "");
    }

    private static async Task ReadUntilAsync(NetworkStream stream, List<byte> received, string marker)
    {
        var buffer = new byte[4096];
        while (!Encoding.ASCII.GetString([.. received]).Contains(marker, StringComparison.Ordinal))
        {
            var read = await stream.ReadAsync(buffer, Ct);
            if (read == 0)
            {
                throw new IOException($"closed before \"{marker}\"");
            }

            received.AddRange(buffer.AsSpan(0, read));
        }
    }

    private sealed record DuplexPipe(PipeReader Input, PipeWriter Output) : IDuplexPipe;
}
