using System.Text.Json.Nodes;
using Headscale.Management.V1;
using Headscale.Protocol.Client;

namespace Headscale.IntegrationTests.ControlPlane;

/// <summary>A server whose map streams send keep-alives every 2 s, so a test sees one without waiting a minute.</summary>
public sealed class MapServer : ControlServer
{
    protected override string ExtraConfig => "tuning:\n  map_keepalive_interval: 2s\npolicy:\n  mode: database\n";
}

/// <summary>
/// The network map as clients see it through the real server: full map first, then deltas as nodes join, go offline,
/// are deleted or get routes approved. Each test makes its own nodes and looks only at them.
/// </summary>
public sealed class NetworkMapOverNoiseTests(MapServer server) : IClassFixture<MapServer>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(45);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Two_nodes_see_each_other_in_the_full_map_and_a_third_arrives_as_a_delta()
    {
        var user = await server.CreateUserAsync();
        using var a = await server.RegisteredNodeAsync(user);
        using var b = await server.RegisteredNodeAsync(user);

        await using var streamA = await a.StreamMapAsync(Ct);
        var full = (await streamA.ReadAsync(Ct))!;
        Assert.Equal(a.NodeKey, full["Node"]!["Key"]!.GetValue<string>());
        Assert.Contains(b.NodeKey, PeerKeys(full["Peers"]));
        Assert.NotNull(full["DERPMap"]);
        Assert.NotNull(full["DNSConfig"]);
        Assert.NotNull(full["PacketFilter"] ?? full["PacketFilters"]);

        using var c = await server.RegisteredNodeAsync(user);
        var joined = await streamA.ReadUntilAsync(f => PeerKeys(f["PeersChanged"]).Contains(c.NodeKey), Ct).WaitAsync(Wait, Ct);
        var peer = Peer(joined["PeersChanged"], c.NodeKey)!;
        var stored = (await server.FindNodeAsync(c.NodeKey))!;
        Assert.Equal(stored.IpAddresses.Select(ip => ip.Contains(':') ? ip + "/128" : ip + "/32").Order(), Strings(peer["Addresses"]).Order());
    }

    [Fact]
    public async Task A_peer_that_disconnects_goes_offline_and_a_deleted_peer_is_removed()
    {
        var user = await server.CreateUserAsync();
        using var a = await server.RegisteredNodeAsync(user);
        using var c = await server.RegisteredNodeAsync(user);
        await using var streamA = await a.StreamMapAsync(Ct);
        await streamA.ReadAsync(Ct);
        var cId = (long)(await server.FindNodeAsync(c.NodeKey))!.Id;

        await using (var streamC = await c.StreamMapAsync(Ct))
        {
            await streamC.ReadAsync(Ct);
            await streamA.ReadUntilAsync(f => IsOnline(f, c.NodeKey, cId) == true, Ct).WaitAsync(Wait, Ct);
        }

        await streamA.ReadUntilAsync(f => IsOnline(f, c.NodeKey, cId) == false, Ct).WaitAsync(Wait, Ct);

        await server.Admin.DeleteNodeAsync(new DeleteNodeRequest { NodeId = (ulong)cId }, cancellationToken: Ct);
        var removed = await streamA.ReadUntilAsync(f => f["PeersRemoved"] is JsonArray ids && ids.Any(id => id!.GetValue<long>() == cId), Ct)
            .WaitAsync(Wait, Ct);
        Assert.NotNull(removed);
    }

    [Fact]
    public async Task Approving_an_announced_route_adds_it_to_the_peers_allowed_ips()
    {
        var user = await server.CreateUserAsync();
        using var a = await server.RegisteredNodeAsync(user);
        using var router = await server.RegisteredNodeAsync(user, routes: ["10.77.0.0/24"]);
        await using var routerStream = await router.StreamMapAsync(Ct);
        await routerStream.ReadAsync(Ct);
        await using var streamA = await a.StreamMapAsync(Ct);
        var full = (await streamA.ReadAsync(Ct))!;
        Assert.DoesNotContain("10.77.0.0/24", Strings(Peer(full["Peers"], router.NodeKey)!["AllowedIPs"]));

        var routerId = (await server.FindNodeAsync(router.NodeKey))!.Id;
        var approve = new SetApprovedRoutesRequest { NodeId = routerId };
        approve.Routes.Add("10.77.0.0/24");
        await server.Admin.SetApprovedRoutesAsync(approve, cancellationToken: Ct);

        var changed = await streamA.ReadUntilAsync(
            f => Peer(f["PeersChanged"], router.NodeKey) is { } p && Strings(p["AllowedIPs"]).Contains("10.77.0.0/24"), Ct).WaitAsync(Wait, Ct);
        Assert.Contains("10.77.0.0/24", Strings(Peer(changed["PeersChanged"], router.NodeKey)!["PrimaryRoutes"]));
    }

    [Fact]
    public async Task The_primary_route_moves_to_the_other_router_when_its_node_goes_offline()
    {
        const string route = "10.88.0.0/24";
        var user = await server.CreateUserAsync();
        using var a = await server.RegisteredNodeAsync(user);
        using var first = await server.RegisteredNodeAsync(user, routes: [route]);
        using var second = await server.RegisteredNodeAsync(user, routes: [route]);
        var firstStream = await first.StreamMapAsync(Ct);
        await firstStream.ReadAsync(Ct);
        await using var secondStream = await second.StreamMapAsync(Ct);
        await secondStream.ReadAsync(Ct);
        foreach (var router in new[] { first, second })
        {
            var approve = new SetApprovedRoutesRequest { NodeId = (await server.FindNodeAsync(router.NodeKey))!.Id };
            approve.Routes.Add(route);
            await server.Admin.SetApprovedRoutesAsync(approve, cancellationToken: Ct);
        }

        await using var streamA = await a.StreamMapAsync(Ct);
        var seen = new MapView();
        seen.Apply((await streamA.ReadAsync(Ct))!);
        while (seen.RouteHolder(route) is null)
        {
            seen.Apply((await streamA.ReadAsync(Ct).WaitAsync(Wait, Ct))!);
        }

        var primary = seen.RouteHolder(route);
        var (gone, other) = primary == first.NodeKey ? (firstStream, second.NodeKey) : (null, first.NodeKey);
        if (gone is null)
        {
            // The second router won the election; take it down instead and keep the first's stream.
            await secondStream.DisposeAsync();
        }
        else
        {
            await gone.DisposeAsync();
        }

        while (seen.RouteHolder(route) != other)
        {
            seen.Apply((await streamA.ReadAsync(Ct).WaitAsync(Wait, Ct))!);
        }

        await firstStream.DisposeAsync();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Compressed_and_plain_streams_decode_and_an_idle_stream_gets_keep_alives(bool zstd)
    {
        var user = await server.CreateUserAsync();
        using var a = await server.RegisteredNodeAsync(user);
        await using var stream = await a.StreamMapAsync(Ct, zstd);

        var full = (await stream.ReadAsync(Ct))!;
        Assert.Equal(a.NodeKey, full["Node"]!["Key"]!.GetValue<string>());
        var keepAlive = await stream.ReadUntilAsync(f => f["KeepAlive"]?.GetValue<bool>() == true, Ct).WaitAsync(Wait, Ct);
        Assert.Null(keepAlive["Peers"]);
    }

    [Fact]
    public async Task A_map_request_for_an_unknown_node_key_is_404_and_bad_requests_are_400()
    {
        using var stranger = server.NewNode();
        var missing = await Assert.ThrowsAsync<HttpRequestException>(() => stranger.StreamMapAsync(Ct));
        Assert.Equal(System.Net.HttpStatusCode.NotFound, missing.StatusCode);

        var (status, text) = await stranger.PostRawAsync("/machine/map", "{\"Version\":125,\"NodeKey\":\"nodekey:zz\"}"u8.ToArray(), Ct);
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, status);
        Assert.Contains("NodeKey", text, StringComparison.Ordinal);
    }

    private static bool? IsOnline(JsonObject frame, string key, long id)
    {
        if (frame["OnlineChange"] is JsonObject online && online[id.ToString(System.Globalization.CultureInfo.InvariantCulture)] is { } value)
        {
            return value.GetValue<bool>();
        }

        if (frame["PeersChangedPatch"] is JsonArray patches
            && patches.FirstOrDefault(p => p!["NodeID"]!.GetValue<long>() == id) is { } patch && patch["Online"] is { } patched)
        {
            return patched.GetValue<bool>();
        }

        return Peer(frame["PeersChanged"], key)?["Online"]?.GetValue<bool>();
    }

    internal static JsonObject? Peer(JsonNode? peers, string key) =>
        (peers as JsonArray)?.Select(p => p!.AsObject()).FirstOrDefault(p => p["Key"]!.GetValue<string>() == key);

    internal static string[] PeerKeys(JsonNode? peers) =>
        (peers as JsonArray)?.Select(p => p!["Key"]!.GetValue<string>()).ToArray() ?? [];

    internal static string[] Strings(JsonNode? array) =>
        (array as JsonArray)?.Select(v => v!.GetValue<string>()).ToArray() ?? [];

    /// <summary>The peers a client would hold after applying full maps and deltas (enough for route checks).</summary>
    private sealed class MapView
    {
        private readonly Dictionary<string, JsonObject> _peers = new(StringComparer.Ordinal);

        public void Apply(JsonObject frame)
        {
            if (frame["Peers"] is JsonArray all)
            {
                _peers.Clear();
                foreach (var peer in all)
                {
                    _peers[peer!["Key"]!.GetValue<string>()] = peer.AsObject();
                }
            }

            foreach (var peer in (frame["PeersChanged"] as JsonArray) ?? [])
            {
                _peers[peer!["Key"]!.GetValue<string>()] = peer.AsObject();
            }
        }

        public string? RouteHolder(string route) =>
            _peers.Values.FirstOrDefault(p => Strings(p["PrimaryRoutes"]).Contains(route))?["Key"]!.GetValue<string>();
    }
}
