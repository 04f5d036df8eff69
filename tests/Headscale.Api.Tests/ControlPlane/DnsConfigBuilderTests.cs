using System.Collections.Immutable;
using System.Net;
using Headscale.Api.Configuration;
using Headscale.Api.ControlPlane;
using Xunit;

namespace Headscale.Api.Tests.ControlPlane;

public sealed class DnsConfigBuilderTests
{
    private static readonly PrefixesConfig Prefixes = new(IPNetwork.Parse("100.64.0.0/10"), IPNetwork.Parse("fd7a:115c:a1e0::/48"), IpAllocationStrategy.Sequential);

    [Fact]
    public void Reverse_zones_of_the_cgnat_range_are_the_64_second_octets()
    {
        var zones = DnsConfigBuilder.ReverseZones(IPNetwork.Parse("100.64.0.0/10")).ToList();

        Assert.Equal(64, zones.Count);
        Assert.Contains("64.100.in-addr.arpa.", zones);
        Assert.Contains("100.100.in-addr.arpa.", zones);
        Assert.Contains("127.100.in-addr.arpa.", zones);
        Assert.DoesNotContain("128.100.in-addr.arpa.", zones);
    }

    [Fact]
    public void Reverse_zones_of_a_slash_16_are_its_256_slash_24s()
    {
        var zones = DnsConfigBuilder.ReverseZones(IPNetwork.Parse("172.16.0.0/16")).ToList();

        Assert.Equal(256, zones.Count);
        Assert.Equal("0.16.172.in-addr.arpa.", zones[0]);
        Assert.Equal("255.16.172.in-addr.arpa.", zones[^1]);
    }

    [Fact]
    public void Reverse_zone_of_the_tailscale_ula_is_one_nibble_zone()
    {
        Assert.Equal(["0.e.1.a.c.5.1.1.a.7.d.f.ip6.arpa."], DnsConfigBuilder.ReverseZones(IPNetwork.Parse("fd7a:115c:a1e0::/48")));
        Assert.Equal(8, DnsConfigBuilder.ReverseZones(IPNetwork.Parse("fd7a:115c:a1e0::/45")).Count());
    }

    [Fact]
    public void Magic_dns_with_overridden_resolvers_split_dns_and_extra_records()
    {
        var dns = new Headscale.Api.Configuration.DnsConfig
        {
            MagicDns = true,
            BaseDomain = "tail.example.com",
            OverrideLocalDns = true,
            GlobalNameservers = ["1.1.1.1", "https://dns.example/dns-query"],
            SplitNameservers = ImmutableDictionary<string, ImmutableArray<string>>.Empty.Add("corp.example.com", ["10.0.0.53"]),
            SearchDomains = ["corp.example.com"],
        };

        var wire = DnsConfigBuilder.Build(dns, Prefixes, [new DnsExtraRecord("grafana.tail.example.com", "A", "100.64.0.3")]);

        Assert.True(wire.Proxied);
        Assert.Equal(["1.1.1.1", "https://dns.example/dns-query"], wire.Resolvers!.Select(r => r.Addr));
        Assert.Null(wire.FallbackResolvers);
        Assert.Equal(["tail.example.com", "corp.example.com"], wire.Domains!);
        Assert.Equal(["10.0.0.53"], wire.Routes!["corp.example.com"].Select(r => r.Addr));
        Assert.Empty(wire.Routes["64.100.in-addr.arpa."]);
        Assert.Empty(wire.Routes["0.e.1.a.c.5.1.1.a.7.d.f.ip6.arpa."]);
        Assert.Equal("100.64.0.3", Assert.Single(wire.ExtraRecords!).Value);
    }

    [Fact]
    public void Without_override_the_global_servers_are_fallbacks_and_without_magic_no_reverse_zones()
    {
        var dns = new Headscale.Api.Configuration.DnsConfig { MagicDns = false, OverrideLocalDns = false, GlobalNameservers = ["9.9.9.9"] };

        var wire = DnsConfigBuilder.Build(dns, Prefixes, []);

        Assert.False(wire.Proxied);
        Assert.Null(wire.Resolvers);
        Assert.Equal("9.9.9.9", Assert.Single(wire.FallbackResolvers!).Addr);
        Assert.Null(wire.Routes);
        Assert.Null(wire.Domains);
    }
}
