using System.Text;
using System.Text.Json.Nodes;
using Headscale.Derp.Hosting;
using Headscale.Derp.Map;
using Microsoft.Extensions.DependencyInjection;

namespace Headscale.Derp.Tests;

/// <summary>The embedded region, <c>derp.paths</c> files, and the merge rule (derp-protocol.md §9–§10).</summary>
public sealed class DerpMapTests : IDisposable
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly string _directory = Directory.CreateTempSubdirectory("derpmap-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    internal const string CustomYaml = """
        regions:
          900:
            regionid: 900
            regioncode: custom
            regionname: My Region
            nodes:
              - name: 900a
                regionid: 900
                hostname: myderp.example.net
                ipv4: 198.51.100.7
                ipv6: "2001:db8::7"
                stunport: 0
                stunonly: false
                derpport: 0
          901:
            regionid: 901
            regioncode: other
            regionname: Other
            nodes:
              - name: 901a
                regionid: 901
                hostname: other.example.net
                stunport: -1
                derpport: 8443
        """;

    internal static DerpEmbeddedRegionOptions Embedded(bool automatically = true) => new()
    {
        RegionId = 999,
        RegionCode = "headscale",
        RegionName = "Headscale Embedded DERP",
        AutomaticallyAddEmbeddedRegion = automatically,
        ServerUrl = "https://hs.example.com:8443",
        StunListenAddr = "0.0.0.0:3479",
        IPv4 = "198.51.100.1",
        IPv6 = "2001:db8::1",
    };

    private string WriteFile(string name, string text)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static async Task<DerpMapProvider> StartProviderAsync(DerpMapOptions options)
    {
        var provider = new DerpMapProvider(options);
        await provider.StartAsync(Ct);
        return provider;
    }

    [Fact]
    public void The_embedded_region_takes_id_code_name_addresses_from_config_and_host_and_ports_from_urls()
    {
        var region = DerpMapLoader.BuildEmbeddedRegion(Embedded());
        Assert.Equal(999, region.RegionID);
        Assert.Equal("headscale", region.RegionCode);
        Assert.Equal("Headscale Embedded DERP", region.RegionName);
        var node = Assert.Single(region.Nodes);
        Assert.Equal("999", node.Name);
        Assert.Equal(999, node.RegionID);
        Assert.Equal("hs.example.com", node.HostName);
        Assert.Equal(8443, node.DERPPort);
        Assert.Equal(3479, node.STUNPort);
        Assert.Equal("198.51.100.1", node.IPv4);
        Assert.Equal("2001:db8::1", node.IPv6);

        var json = JsonNode.Parse(DerpMapLoader.ToJson(new DerpMap { Regions = new() { [999] = region } }))!;
        var wireNode = json["Regions"]!["999"]!["Nodes"]![0]!;
        Assert.Equal("hs.example.com", (string?)wireNode["HostName"]);
        Assert.Equal("198.51.100.1", (string?)wireNode["IPv4"]);
        Assert.Equal("2001:db8::1", (string?)wireNode["IPv6"]);
        Assert.Equal(3479, (int?)wireNode["STUNPort"]);
        Assert.Equal(8443, (int?)wireNode["DERPPort"]);
        Assert.Null(wireNode["STUNOnly"]);
    }

    [Theory]
    [InlineData("https://hs.example.com", 443)]
    [InlineData("http://hs.example.com", 80)]
    [InlineData("https://hs.example.com:8080/", 8080)]
    public void The_embedded_derp_port_is_the_server_url_port_or_the_scheme_default(string serverUrl, int port)
    {
        var options = Embedded();
        options.ServerUrl = serverUrl;
        var node = DerpMapLoader.BuildEmbeddedRegion(options).Nodes[0];
        Assert.Equal("hs.example.com", node.HostName);
        Assert.Equal(port, node.DERPPort);
    }

    [Theory]
    [InlineData("region_id", "derp.server.region_id")]
    [InlineData("server_url", "server_url")]
    [InlineData("stun", "stun_listen_addr")]
    [InlineData("ipv4", "derp.server.ipv4")]
    [InlineData("ipv6", "derp.server.ipv6")]
    public void Bad_embedded_region_settings_are_rejected_naming_the_key(string field, string expectedKey)
    {
        var options = Embedded();
        switch (field)
        {
            case "region_id": options.RegionId = 0; break;
            case "server_url": options.ServerUrl = "hs.example.com"; break;
            case "stun": options.StunListenAddr = null; break;
            case "ipv4": options.IPv4 = "2001:db8::1"; break;
            case "ipv6": options.IPv6 = "not-an-ip"; break;
        }
        var error = Assert.Throws<ArgumentException>(() => new ServiceCollection().AddDerpMap(o => o.EmbeddedRegion = options));
        Assert.Contains(expectedKey, error.Message);
    }

    [Fact]
    public async Task The_embedded_region_alone_makes_a_map()
    {
        var provider = await StartProviderAsync(new DerpMapOptions { EmbeddedRegion = Embedded() });
        Assert.Equal([999], provider.Current.Regions!.Keys);
    }

    [Fact]
    public async Task Without_automatically_add_the_region_comes_from_paths_only()
    {
        var path = WriteFile("custom.yaml", CustomYaml);
        var provider = await StartProviderAsync(new DerpMapOptions { Paths = [path], EmbeddedRegion = Embedded(automatically: false) });
        Assert.Equal([900, 901], provider.Current.Regions!.Keys.Order());
    }

    [Fact]
    public async Task A_map_with_no_regions_fails_startup_with_a_clear_error()
    {
        var error = await Assert.ThrowsAsync<DerpMapException>(() =>
            StartProviderAsync(new DerpMapOptions { EmbeddedRegion = Embedded(automatically: false) }));
        Assert.Contains("no regions", error.Message);
    }

    [Fact]
    public async Task A_yaml_path_is_read_with_headscales_lower_case_keys()
    {
        var path = WriteFile("custom.yaml", CustomYaml);
        var provider = await StartProviderAsync(new DerpMapOptions { Paths = [path], EmbeddedRegion = Embedded() });
        var regions = provider.Current.Regions!;
        Assert.Equal([900, 901, 999], regions.Keys.Order());
        var custom = regions[900]!;
        Assert.Equal("custom", custom.RegionCode);
        Assert.Equal("My Region", custom.RegionName);
        var node = Assert.Single(custom.Nodes);
        Assert.Equal(("900a", "myderp.example.net", "198.51.100.7", "2001:db8::7"), (node.Name, node.HostName, node.IPv4, node.IPv6));
        Assert.Equal(-1, regions[901]!.Nodes[0].STUNPort);
        Assert.Equal(8443, regions[901]!.Nodes[0].DERPPort);
    }

    [Fact]
    public async Task A_json_path_is_read_as_tailscale_json()
    {
        var path = WriteFile("map.json", """
            {"Regions":{"1":{"RegionID":1,"RegionCode":"nyc","RegionName":"New York",
              "Nodes":[{"Name":"1a","RegionID":1,"HostName":"derp1.example.net","IPv4":"198.51.100.9","CanPort80":true}]}},
             "omitDefaultRegions":true}
            """);
        var provider = await StartProviderAsync(new DerpMapOptions { Paths = [path] });
        var node = Assert.Single(provider.Current.Regions![1]!.Nodes);
        Assert.Equal(("1a", "derp1.example.net", "198.51.100.9", true), (node.Name, node.HostName, node.IPv4, node.CanPort80));
        Assert.True(provider.Current.OmitDefaultRegions);
    }

    [Fact]
    public async Task Later_sources_win_per_region_null_removes_and_the_embedded_region_overrides_its_id()
    {
        var first = WriteFile("first.yaml", CustomYaml);
        var second = WriteFile("second.json", """
            {"Regions":{
              "900":{"RegionID":900,"RegionCode":"replaced","RegionName":"Replaced","Nodes":[{"Name":"900z","RegionID":900,"HostName":"z.example.net"}]},
              "901":null,
              "999":{"RegionID":999,"RegionCode":"impostor","RegionName":"Impostor","Nodes":[{"Name":"x","RegionID":999,"HostName":"x.example.net"}]}}}
            """);
        var provider = await StartProviderAsync(new DerpMapOptions { Paths = [first, second], EmbeddedRegion = Embedded() });
        var regions = provider.Current.Regions!;
        Assert.Equal([900, 999], regions.Keys.Order());
        Assert.Equal("replaced", regions[900]!.RegionCode);
        Assert.Equal("headscale", regions[999]!.RegionCode);
        Assert.Equal("hs.example.com", regions[999]!.Nodes[0].HostName);
    }

    [Fact]
    public void The_node_shuffle_is_deterministic_per_seed_and_keeps_every_node()
    {
        var nodes = Enumerable.Range(0, 8).Select(i => new DerpNode { Name = $"n{i}", RegionID = 5, HostName = $"n{i}.example.net" }).ToList();
        var map = new DerpMap { Regions = new() { [5] = new DerpRegion { RegionID = 5, RegionCode = "r", RegionName = "R", Nodes = nodes } } };

        string[] Order(string? seed) => DerpMapLoader.Merge([map], null, seed).Regions![5]!.Nodes.Select(n => n.Name).ToArray();

        Assert.Equal(nodes.Select(n => n.Name), Order(null));
        Assert.Equal(Order("example.com"), Order("example.com"));
        Assert.Equal(nodes.Select(n => n.Name).Order(), Order("example.com").Order());
        var seeds = new[] { "a.example", "b.example", "c.example", "d.example" };
        Assert.Contains(seeds, s => !Order(s).SequenceEqual(nodes.Select(n => n.Name)));
    }

    public static TheoryData<string, string, string> BadFiles => new()
    {
        { "bad.yaml", "regions:\n  900: [unclosed", "not valid YAML at line" },
        { "bad.json", "{\"Regions\":", "not valid JSON" },
        { "noregions.yaml", "something: 1\n", "not valid YAML" },
        { "empty-regions.json", "{}", "has no 'regions'" },
        { "mismatch.yaml", "regions:\n  900:\n    regionid: 901\n    nodes:\n      - name: a\n        regionid: 901\n        hostname: h\n", "region under key 900 has RegionID 901" },
        { "nonodes.yaml", "regions:\n  900:\n    regionid: 900\n    nodes: []\n", "region 900 has no nodes" },
        { "nohost.yaml", "regions:\n  900:\n    regionid: 900\n    nodes:\n      - name: a\n        regionid: 900\n", "node 'a' of region 900 has no hostname" },
        { "noname.yaml", "regions:\n  900:\n    regionid: 900\n    nodes:\n      - regionid: 900\n        hostname: h\n", "has no name" },
        { "wrongnode.yaml", "regions:\n  900:\n    regionid: 900\n    nodes:\n      - name: a\n        regionid: 7\n        hostname: h\n", "says region 7" },
        { "port.yaml", "regions:\n  900:\n    regionid: 900\n    nodes:\n      - name: a\n        regionid: 900\n        hostname: h\n        derpport: 70000\n", "port out of range" },
        { "negative.json", "{\"Regions\":{\"-3\":{\"RegionID\":-3,\"Nodes\":[{\"Name\":\"a\",\"RegionID\":-3,\"HostName\":\"h\"}]}}}", "must be positive" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public async Task A_bad_map_file_is_rejected_naming_the_file_and_the_problem(string name, string text, string expected)
    {
        var path = WriteFile(name, text);
        var error = await Assert.ThrowsAsync<DerpMapException>(() => DerpMapLoader.LoadFileAsync(path, Ct));
        Assert.Contains(path, error.Message);
        Assert.Contains(expected, error.Message);
    }

    [Fact]
    public async Task A_missing_map_file_is_reported_by_path()
    {
        var path = Path.Combine(_directory, "absent.yaml");
        var error = await Assert.ThrowsAsync<DerpMapException>(() => DerpMapLoader.LoadFileAsync(path, Ct));
        Assert.Contains(path, error.Message);
        Assert.Contains("cannot be read", error.Message);
    }

    [Fact]
    public void A_url_that_is_not_http_is_rejected_at_registration()
    {
        var error = Assert.Throws<ArgumentException>(() => new ServiceCollection().AddDerpMap(o => o.Urls = ["ftp://example.com/map"]));
        Assert.Contains("derp.urls", error.Message);
    }

    [Fact]
    public void A_non_positive_update_frequency_is_rejected()
    {
        var error = Assert.Throws<ArgumentException>(() => new ServiceCollection().AddDerpMap(o => o.UpdateFrequency = TimeSpan.Zero));
        Assert.Contains("derp.update_frequency", error.Message);
    }

    [Fact]
    public void The_wire_json_uses_pascal_case_and_lower_camel_omit_default_regions()
    {
        var map = DerpMapLoader.Merge([], DerpMapLoader.BuildEmbeddedRegion(Embedded()), null) with { OmitDefaultRegions = true };
        var json = Encoding.UTF8.GetString(DerpMapLoader.ToJson(map));
        Assert.Contains("\"omitDefaultRegions\":true", json);
        Assert.Contains("\"Regions\":{\"999\":{\"RegionID\":999,\"RegionCode\":\"headscale\",\"RegionName\":\"Headscale Embedded DERP\"", json);
        Assert.DoesNotContain("Latitude", json);
    }
}
