using System.Text.Json.Serialization;

namespace Headscale.Protocol.Tailcfg;

/// <summary><c>tailcfg.DNSConfig</c> as sent in <c>MapResponse.DNSConfig</c>.</summary>
public sealed record DnsConfig
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DnsResolver[]? Resolvers { get; init; }

    /// <summary>Split DNS. An empty array (never null) means "answer with the internal resolver".</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Dictionary<string, DnsResolver[]>? Routes { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DnsResolver[]? FallbackResolvers { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string[]? Domains { get; init; }

    public bool Proxied { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DnsRecord[]? ExtraRecords { get; init; }
}

/// <summary><c>dnstype.Resolver</c>: an address, <c>ip:port</c> or a DoH URL.</summary>
public sealed record DnsResolver(string Addr);

/// <summary><c>tailcfg.DNSRecord</c>: an extra MagicDNS A/AAAA record.</summary>
public sealed record DnsRecord(string Name, string Type, string Value);

/// <summary><c>tailcfg.UserProfile</c>.</summary>
public sealed record UserProfile(
    long ID,
    string LoginName,
    string DisplayName,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)] string? ProfilePicURL = null);
