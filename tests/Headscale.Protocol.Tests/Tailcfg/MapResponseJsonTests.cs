using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
using Headscale.Protocol.Tailcfg;
using Xunit;

namespace Headscale.Protocol.Tests.Tailcfg;

public sealed class MapResponseJsonTests
{
    private static readonly DateTimeOffset Created = new(2026, 8, 1, 9, 0, 0, TimeSpan.Zero);

    private static MapNode Node(long id, string name) => new()
    {
        Id = id,
        Name = $"{name}.tail.example.com.",
        User = 1,
        Key = "nodekey:" + new string('a', 64),
        Machine = "mkey:" + new string('b', 64),
        DiscoKey = "discokey:" + new string('c', 64),
        Addresses = [$"100.64.0.{id}/32", $"fd7a:115c:a1e0::{id}/128"],
        Endpoints = ["203.0.113.5:41641"],
        HomeDerp = 999,
        Hostinfo = Encoding.UTF8.GetBytes($$$"""{"Hostname":"{{{name}}}","OS":"linux","Future":{"x":1}}"""),
        Created = Created,
        Online = true,
    };

    [Fact]
    public void A_peer_entry_shared_by_messages_is_written_the_same_everywhere_and_a_changed_copy_is_written_anew()
    {
        var peer = Node(2, "shared");
        var moved = peer with { Endpoints = ["198.51.100.9:41641"] };

        var asPeer = JsonDocument.Parse(MapResponseJson.ToUtf8(new MapResponse { Peers = [peer] })).RootElement.GetProperty("Peers")[0];
        var asChange = JsonDocument.Parse(MapResponseJson.ToUtf8(new MapResponse { PeersChanged = [peer] })).RootElement.GetProperty("PeersChanged")[0];
        var asMoved = JsonDocument.Parse(MapResponseJson.ToUtf8(new MapResponse { PeersChanged = [moved] })).RootElement.GetProperty("PeersChanged")[0];

        Assert.Equal(asPeer.GetRawText(), asChange.GetRawText());
        Assert.Equal("shared", asPeer.GetProperty("Hostinfo").GetProperty("Hostname").GetString());
        Assert.Equal("198.51.100.9:41641", asMoved.GetProperty("Endpoints")[0].GetString());
        Assert.Equal("203.0.113.5:41641", asPeer.GetProperty("Endpoints")[0].GetString());
    }

    [Fact]
    public void Keep_alive_is_exactly_the_one_field()
    {
        Assert.Equal("""{"KeepAlive":true}""", Encoding.UTF8.GetString(MapResponseJson.ToUtf8(MapResponse.KeepAliveMessage)));
    }

    [Fact]
    public void Full_map_has_go_field_names_and_spliced_raw_fragments()
    {
        var response = new MapResponse
        {
            ControlTime = new DateTimeOffset(2026, 8, 20, 10, 0, 0, TimeSpan.Zero),
            Node = Node(1, "laptop"),
            DerpMapRaw = """{"Regions":{"999":{"RegionID":999}}}"""u8.ToArray(),
            Peers = [Node(3, "c"), Node(2, "b")],
            DnsConfig = new DnsConfig { Domains = ["tail.example.com"], Proxied = true, Routes = new() { ["64.100.in-addr.arpa."] = [] } },
            Domain = "tail.example.com",
            CollectServices = false,
            PacketFilterRaw = """[{"SrcIPs":["*"],"DstPorts":[{"IP":"*","Ports":{"First":0,"Last":65535}}]}]"""u8.ToArray(),
            UserProfiles = [new UserProfile(1, "alice@example.com", "Alice")],
            SshPolicyRaw = """{"rules":[]}"""u8.ToArray(),
            DisableLogTail = true,
        };

        using var doc = JsonDocument.Parse(MapResponseJson.ToUtf8(response));
        var root = doc.RootElement;

        Assert.Equal("2026-08-20T10:00:00Z", root.GetProperty("ControlTime").GetString());
        var self = root.GetProperty("Node");
        Assert.Equal(1, self.GetProperty("ID").GetInt64());
        Assert.Equal("1", self.GetProperty("StableID").GetString());
        Assert.Equal("laptop.tail.example.com.", self.GetProperty("Name").GetString());
        Assert.Equal(999, self.GetProperty("HomeDERP").GetInt32());
        Assert.Equal("127.3.3.40:999", self.GetProperty("DERP").GetString());
        Assert.Equal(1, self.GetProperty("Hostinfo").GetProperty("Future").GetProperty("x").GetInt32());
        Assert.False(self.TryGetProperty("AllowedIPs", out _));
        Assert.False(self.TryGetProperty("KeyExpiry", out _));
        Assert.Equal([2L, 3L], root.GetProperty("Peers").EnumerateArray().Select(p => p.GetProperty("ID").GetInt64()));
        Assert.Equal(JsonValueKind.Array, root.GetProperty("DNSConfig").GetProperty("Routes").GetProperty("64.100.in-addr.arpa.").ValueKind);
        Assert.False(root.GetProperty("DNSConfig").TryGetProperty("Resolvers", out _));
        Assert.Equal("*", root.GetProperty("PacketFilters").GetProperty("base")[0].GetProperty("SrcIPs")[0].GetString());
        Assert.Equal("alice@example.com", root.GetProperty("UserProfiles")[0].GetProperty("LoginName").GetString());
        Assert.False(root.GetProperty("UserProfiles")[0].TryGetProperty("ProfilePicURL", out _));
        Assert.True(root.GetProperty("Debug").GetProperty("DisableLogTail").GetBoolean());
        Assert.False(root.GetProperty("CollectServices").GetBoolean());
        Assert.False(root.TryGetProperty("KeepAlive", out _));
    }

    [Fact]
    public void Deltas_carry_only_what_changed()
    {
        var response = new MapResponse
        {
            PeersRemoved = [7],
            OnlineChange = ImmutableDictionary<long, bool>.Empty.Add(12, false).Add(5, true),
            PeersChangedPatch = [new PeerChange(5) { Endpoints = ["1.2.3.4:5"], Online = false, DerpRegion = 2 }],
        };

        var json = Encoding.UTF8.GetString(MapResponseJson.ToUtf8(response));

        Assert.Equal(
            """{"PeersRemoved":[7],"PeersChangedPatch":[{"NodeID":5,"DERPRegion":2,"Endpoints":["1.2.3.4:5"],"Online":false}],"OnlineChange":{"5":true,"12":false}}""",
            json);
    }

    [Fact]
    public void Times_are_utc_rfc3339_with_trimmed_fractions()
    {
        Assert.Equal("2026-01-02T02:04:05Z", MapResponseJson.FormatTime(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.FromHours(1))));
        Assert.Equal("2026-01-02T03:04:05.5Z", MapResponseJson.FormatTime(new DateTimeOffset(2026, 1, 2, 3, 4, 5, 500, TimeSpan.Zero)));
    }

    [Fact]
    public void A_client_map_request_parses_with_raw_hostinfo()
    {
        var json = """
            {"Version":122,"Compress":"zstd","KeepAlive":true,"NodeKey":"nodekey:0101010101010101010101010101010101010101010101010101010101010101",
             "DiscoKey":"discokey:0202020202020202020202020202020202020202020202020202020202020202","Stream":true,
             "Hostinfo":{"Hostname":"Joe's Mac","OS":"macOS","RoutableIPs":["10.0.0.0/24"],"RequestTags":["tag:a"],"NetInfo":{"PreferredDERP":999}},
             "Endpoints":["192.0.2.1:41641"],"EndpointTypes":[1],"Unknown":"ignored"}
            """;

        var request = JsonSerializer.Deserialize(json, TailcfgJsonContext.Default.MapRequest)!;
        Assert.True(HostinfoSummary.TryParse(request.Hostinfo, out var hostinfo, out var error), error);

        Assert.True(request.WantsZstd);
        Assert.True(request.Stream);
        Assert.Equal(122, request.Version);
        Assert.Equal("Joe's Mac", hostinfo.Hostname);
        Assert.Equal(["10.0.0.0/24"], hostinfo.RoutableIPs);
        Assert.Equal(["tag:a"], hostinfo.RequestTags);
        Assert.Equal(999, hostinfo.PreferredDerp);
    }

    [Fact]
    public void Hostinfo_that_is_not_an_object_or_too_large_is_refused()
    {
        using var array = JsonDocument.Parse("[1,2]");
        using var huge = JsonDocument.Parse($$"""{"Hostname":"{{new string('x', HostinfoSummary.MaxRawBytes)}}"}""");

        Assert.False(HostinfoSummary.TryParse(array.RootElement, out _, out var notObject));
        Assert.False(HostinfoSummary.TryParse(huge.RootElement, out _, out var tooLarge));
        Assert.True(HostinfoSummary.TryParse(null, out var empty, out _));

        Assert.Equal("Hostinfo must be a JSON object", notObject);
        Assert.Contains("larger than", tooLarge);
        Assert.Equal("", empty.Hostname);
    }
}
