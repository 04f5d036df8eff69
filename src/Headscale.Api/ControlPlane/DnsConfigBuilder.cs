using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Headscale.Api.Configuration;
using Headscale.Protocol.Tailcfg;
using WireDnsConfig = Headscale.Protocol.Tailcfg.DnsConfig;

namespace Headscale.Api.ControlPlane;

/// <summary>Builds the <c>DNSConfig</c> every node receives from the <c>dns.*</c> configuration.</summary>
public static class DnsConfigBuilder
{
    public static WireDnsConfig Build(Configuration.DnsConfig config, PrefixesConfig prefixes, IReadOnlyList<DnsExtraRecord> extraRecords)
    {
        var resolvers = config.GlobalNameservers.Select(n => new DnsResolver(n)).ToArray();
        var routes = new Dictionary<string, DnsResolver[]>(StringComparer.Ordinal);
        foreach (var (domain, servers) in config.SplitNameservers)
        {
            routes[domain] = servers.Select(s => new DnsResolver(s)).ToArray();
        }

        if (config.MagicDns)
        {
            // Reverse zones of our own prefixes are answered by the client's internal resolver.
            foreach (var prefix in new[] { prefixes.V4, prefixes.V6 })
            {
                if (prefix is { } p)
                {
                    foreach (var zone in ReverseZones(p))
                    {
                        routes[zone] = [];
                    }
                }
            }
        }

        var domains = new List<string>();
        if (config.BaseDomain.Length > 0)
        {
            domains.Add(config.BaseDomain);
        }

        domains.AddRange(config.SearchDomains);

        return new WireDnsConfig
        {
            Resolvers = config.OverrideLocalDns && resolvers.Length > 0 ? resolvers : null,
            FallbackResolvers = !config.OverrideLocalDns && resolvers.Length > 0 ? resolvers : null,
            Routes = routes.Count > 0 ? routes : null,
            Domains = domains.Count > 0 ? domains.ToArray() : null,
            Proxied = config.MagicDns,
            ExtraRecords = extraRecords.Count > 0
                ? extraRecords.Select(r => new DnsRecord(r.Name, r.Type, r.Value)).ToArray()
                : null,
        };
    }

    /// <summary>
    /// The reverse-DNS zones covering a prefix: IPv4 one octet below the prefix's last whole octet
    /// (100.64.0.0/10 → 64…127.100.in-addr.arpa.), IPv6 at nibble granularity.
    /// </summary>
    public static IEnumerable<string> ReverseZones(IPNetwork prefix)
    {
        var bytes = prefix.BaseAddress.GetAddressBytes();
        if (prefix.BaseAddress.AddressFamily == AddressFamily.InterNetwork)
        {
            var octets = Math.Min(prefix.PrefixLength / 8 + 1, 4);
            var freeBits = octets * 8 - prefix.PrefixLength;
            var count = 1 << freeBits;
            var last = bytes[octets - 1];
            for (var i = 0; i < count; i++)
            {
                var labels = new List<string> { ((last & ~(count - 1)) + i).ToString(CultureInfo.InvariantCulture) };
                for (var o = octets - 2; o >= 0; o--)
                {
                    labels.Add(bytes[o].ToString(CultureInfo.InvariantCulture));
                }

                yield return string.Join('.', labels) + ".in-addr.arpa.";
            }

            yield break;
        }

        var nibbles = (prefix.PrefixLength + 3) / 4;
        var spare = nibbles * 4 - prefix.PrefixLength;
        var variants = 1 << spare;
        var allNibbles = new int[32];
        for (var i = 0; i < 16; i++)
        {
            allNibbles[2 * i] = bytes[i] >> 4;
            allNibbles[2 * i + 1] = bytes[i] & 0xF;
        }

        for (var v = 0; v < variants; v++)
        {
            var labels = new List<string>();
            for (var n = nibbles - 1; n >= 0; n--)
            {
                var value = n == nibbles - 1 ? (allNibbles[n] & ~(variants - 1)) + v : allNibbles[n];
                labels.Add(value.ToString("x", CultureInfo.InvariantCulture));
            }

            yield return string.Join('.', labels) + ".ip6.arpa.";
        }
    }
}
