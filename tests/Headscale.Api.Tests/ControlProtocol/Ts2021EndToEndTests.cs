using System.Net;
using System.Text;
using Headscale.Protocol.Client;

namespace Headscale.Api.Tests.ControlProtocol;

public sealed class Ts2021EndToEndTests : IAsyncLifetime
{
    private Ts2021TestServer _server = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _server = await Ts2021TestServer.StartAsync();

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Client_fetches_the_key_and_reaches_an_inner_endpoint_with_its_machine_identity()
    {
        using var http = new HttpClient();
        var serverKey = await Ts2021Client.FetchServerKeyAsync(http, _server.Url, 142, Ct);
        Assert.Equal(_server.NoiseKey.PublicKey, serverKey);

        using var client = _server.CreateClient();
        using var response = await client.Http.SendAsync(client.CreateRequest(HttpMethod.Get, "/machine/whoami"), Ct);
        var body = await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpVersion.Version20, response.Version);
        var parts = body.Split(' ');
        Assert.Equal(client.MachineKey.ToString(), parts[0]);
        Assert.Equal("142", parts[1]);
        Assert.Equal("HTTP/2", parts[3]);
        var early = await client.Connection!.EarlyNoise;
        Assert.NotNull(early);
        Assert.Equal(early.NodeKeyChallenge.ToString(), parts[2]);
        Assert.False(early.NodeKeyChallenge.IsZero);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_client_given_a_buffer_pool_takes_its_connection_buffers_from_it(bool webSocket)
    {
        using var pool = new CountingPool();
        using var client = _server.CreateClient(webSocket: webSocket, bufferPool: pool);
        using var response = await client.Http.SendAsync(client.CreateRequest(HttpMethod.Get, "/machine/whoami"), Ct);
        await response.Content.ReadAsStringAsync(Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // Socket reads and writes and the Noise plaintext pipes all rent from it.
        Assert.True(pool.Rented >= 3, $"the pool lent {pool.Rented} buffers");
    }

    private sealed class CountingPool : System.Buffers.MemoryPool<byte>
    {
        private int _rented;

        public int Rented => Volatile.Read(ref _rented);

        public override int MaxBufferSize => 64 * 1024;

        public override System.Buffers.IMemoryOwner<byte> Rent(int minBufferSize = -1)
        {
            Interlocked.Increment(ref _rented);
            return System.Buffers.MemoryPool<byte>.Shared.Rent(minBufferSize);
        }

        protected override void Dispose(bool disposing)
        {
        }
    }

    [Fact]
    public async Task WebSocket_variant_carries_http2_without_an_early_payload()
    {
        using var client = _server.CreateClient(webSocket: true);
        using var response = await client.Http.SendAsync(client.CreateRequest(HttpMethod.Get, "/machine/whoami"), Ct);
        var parts = (await response.Content.ReadAsStringAsync(Ct)).Split(' ');

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(client.MachineKey.ToString(), parts[0]);
        Assert.Null(await client.Connection!.EarlyNoise);
        Assert.Equal(1, _server.Statistics.Established);
    }

    [Fact]
    public async Task WebSocket_upgrade_without_the_subprotocol_is_closed_with_policy_violation()
    {
        using var socket = new System.Net.WebSockets.ClientWebSocket();
        await socket.ConnectAsync(new Uri($"ws://127.0.0.1:{_server.Port}/ts2021?X-Tailscale-Handshake=AAAA"), Ct);
        var received = await socket.ReceiveAsync(new byte[16], Ct);

        Assert.Equal(System.Net.WebSockets.WebSocketMessageType.Close, received.MessageType);
        Assert.Equal(System.Net.WebSockets.WebSocketCloseStatus.PolicyViolation, socket.CloseStatus);
        Assert.Contains("subprotocol", socket.CloseStatusDescription, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Each_connection_gets_a_fresh_challenge()
    {
        using var first = _server.CreateClient();
        using var second = _server.CreateClient();
        (await first.Http.SendAsync(first.CreateRequest(HttpMethod.Get, "/machine/whoami"), Ct)).Dispose();
        (await second.Http.SendAsync(second.CreateRequest(HttpMethod.Get, "/machine/whoami"), Ct)).Dispose();

        Assert.NotEqual((await first.Connection!.EarlyNoise)!.NodeKeyChallenge, (await second.Connection!.EarlyNoise)!.NodeKeyChallenge);
    }

    [Fact]
    public async Task Inner_endpoints_are_not_reachable_on_the_public_listener()
    {
        using var http = new HttpClient { BaseAddress = _server.Url };

        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync("/machine/whoami", Ct)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/public", Ct)).StatusCode);
    }

    [Fact]
    public async Task Public_endpoints_are_not_reachable_inside_noise()
    {
        using var client = _server.CreateClient();
        using var response = await client.Http.SendAsync(client.CreateRequest(HttpMethod.Get, "/public"), Ct);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task A_thousand_concurrent_streams_share_one_noise_connection()
    {
        using var client = _server.CreateClient();
        var requests = Enumerable.Range(0, Ts2021TestServer.ConcurrentStreams).Select(async _ =>
        {
            using var response = await client.Http.SendAsync(client.CreateRequest(HttpMethod.Post, "/machine/gather"), Ct);
            response.EnsureSuccessStatusCode();
            return await response.Content.ReadAsStringAsync(Ct);
        }).ToArray();

        var connectionIds = await Task.WhenAll(requests).WaitAsync(TimeSpan.FromSeconds(120), Ct);

        Assert.Single(connectionIds.Distinct());
        Assert.Equal(1, client.ConnectionCount);
        Assert.Equal(Ts2021TestServer.ConcurrentStreams, _server.GatheredStreams.Count);
    }

    [Fact]
    public async Task Ten_megabyte_response_arrives_intact()
    {
        const int size = 10 * 1024 * 1024;
        using var client = _server.CreateClient();
        using var response = await client.Http.SendAsync(
            client.CreateRequest(HttpMethod.Get, $"/machine/big?size={size}"), HttpCompletionOption.ResponseHeadersRead, Ct);
        var body = await response.Content.ReadAsByteArrayAsync(Ct);

        Assert.Equal(size, body.Length);
        for (var i = 0; i < size; i++)
        {
            if (body[i] != Ts2021TestServer.Pattern(i))
            {
                Assert.Fail($"byte {i} differs");
            }
        }
    }

    [Fact]
    public async Task Response_written_in_pieces_arrives_piece_by_piece()
    {
        using var client = _server.CreateClient();
        using var response = await client.Http.SendAsync(
            client.CreateRequest(HttpMethod.Get, "/machine/trickle"), HttpCompletionOption.ResponseHeadersRead, Ct);
        await using var body = await response.Content.ReadAsStreamAsync(Ct);
        var buffer = new byte[256];

        // The next piece is only released after the previous one was read, so a buffered response would hang here.
        for (var i = 0; i < 5; i++)
        {
            var piece = $"piece-{i};";
            await _server.TricklePieces.Writer.WriteAsync(piece, Ct);
            var received = new StringBuilder();
            while (received.Length < piece.Length)
            {
                var read = await body.ReadAsync(buffer, Ct).AsTask().WaitAsync(TimeSpan.FromSeconds(20), Ct);
                Assert.NotEqual(0, read);
                received.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }

            Assert.Equal(piece, received.ToString());
        }

        _server.TricklePieces.Writer.Complete();
        Assert.Equal(0, await body.ReadAsync(buffer, Ct));
    }

    [Fact]
    public async Task Request_body_over_one_mebibyte_is_refused_and_one_at_the_limit_is_accepted()
    {
        using var client = _server.CreateClient();

        using var atLimit = await client.Http.SendAsync(
            client.CreateRequest(HttpMethod.Post, "/machine/upload", new ByteArrayContent(new byte[1024 * 1024])), Ct);
        Assert.Equal(HttpStatusCode.OK, atLimit.StatusCode);
        Assert.Equal("1048576", await atLimit.Content.ReadAsStringAsync(Ct));

        using var over = await client.Http.SendAsync(
            client.CreateRequest(HttpMethod.Post, "/machine/upload", new ByteArrayContent(new byte[1024 * 1024 + 1])), Ct);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, over.StatusCode);
    }

    [Fact]
    public async Task Closing_clients_leaves_no_connection_behind()
    {
        for (var i = 0; i < 5; i++)
        {
            using var client = _server.CreateClient();
            (await client.Http.SendAsync(client.CreateRequest(HttpMethod.Get, "/machine/whoami"), Ct)).Dispose();
        }

        await _server.AssertNoConnectionsLeftAsync();
        Assert.Equal(5, _server.Statistics.Established);
    }
}
