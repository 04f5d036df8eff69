using Headscale.Actors.NetworkMap;
using Headscale.Protocol.Tailcfg;

namespace Headscale.Actors.Tests.NetworkMap;

/// <summary>DNS config and DERP map replaced while the map runs reach subscribed viewers as deltas.</summary>
public sealed class NetworkMapSettingsTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 12, 0, 0, TimeSpan.Zero);
    private static readonly MapSettings Settings = new("tail.example.com", """{"Regions":{}}"""u8.ToArray(), new DnsConfig { Proxied = true }, DisableLogTail: true);

    private static PeerView Node(long id) => new()
    {
        Id = id,
        UserId = 1,
        UserLogin = "alice",
        GivenName = $"n{id}",
        NodeKey = "nodekey:" + new string((char)('0' + id % 10), 64),
        MachineKey = "mkey:" + new string('a', 64),
        Addresses = [$"100.64.0.{id}/32"],
        Online = true,
        Created = Now,
    };

    private static NetworkMapState MapWithViewers()
    {
        var map = new NetworkMapState(Settings, AllowAllPolicy.Instance);
        map.Upsert(Node(1), Now);
        map.Upsert(Node(2), Now);
        map.Upsert(Node(3), Now);
        map.Subscribe(1, Now);
        map.Subscribe(2, Now);
        return map;
    }

    [Fact]
    public void A_new_dns_config_goes_to_every_viewer_without_the_unchanged_derp_map()
    {
        var map = MapWithViewers();
        var dns = new DnsConfig { Proxied = true, ExtraRecords = [new DnsRecord("wiki.tail.example.com", "A", "100.64.9.9")] };

        var updates = map.ReplaceSettings(Settings with { Dns = dns }, Now);

        Assert.Equal([1L, 2L], updates.Select(u => u.ViewerId).Order());
        Assert.All(updates, u =>
        {
            Assert.Same(dns, u.Response.DnsConfig);
            Assert.Null(u.Response.DerpMapRaw);
            Assert.Null(u.Response.Peers);
            Assert.Null(u.Response.PeersChanged);
        });
        Assert.Same(dns, map.Subscribe(3, Now).DnsConfig);
    }

    [Fact]
    public void A_changed_derp_map_is_sent_and_equal_bytes_are_not()
    {
        var map = MapWithViewers();

        var same = map.ReplaceSettings(Settings with { DerpMap = """{"Regions":{}}"""u8.ToArray() }, Now);
        var changed = map.ReplaceSettings(Settings with { DerpMap = """{"Regions":{"999":{}}}"""u8.ToArray() }, Now);

        Assert.Empty(same);
        Assert.Equal(2, changed.Count);
        Assert.All(changed, u =>
        {
            Assert.Equal("""{"Regions":{"999":{}}}""", System.Text.Encoding.UTF8.GetString(u.Response.DerpMapRaw!.Value.Span));
            Assert.Null(u.Response.DnsConfig);
        });
    }
}
