namespace Headscale.Derp.Map;

/// <summary>Sources of the DERP map (<c>derp.urls</c>, <c>derp.paths</c>, <c>derp.auto_update_enabled</c>, <c>derp.update_frequency</c>).</summary>
public sealed class DerpMapOptions
{
    /// <summary>URLs of JSON DERP maps (<c>derp.urls</c>).</summary>
    public List<string> Urls { get; set; } = [];

    /// <summary>YAML or JSON DERP map files (<c>derp.paths</c>); <c>.json</c> files are JSON, anything else YAML.</summary>
    public List<string> Paths { get; set; } = [];

    public bool AutoUpdateEnabled { get; set; } = true;
    public TimeSpan UpdateFrequency { get; set; } = TimeSpan.FromHours(3);

    /// <summary>The embedded server's region; null when the embedded DERP server is off.</summary>
    public DerpEmbeddedRegionOptions? EmbeddedRegion { get; set; }

    /// <summary>Seed of the deterministic node shuffle inside regions (headscale uses <c>dns.base_domain</c>); null keeps file order.</summary>
    public string? ShuffleSeed { get; set; }

    public TimeSpan FetchTimeout { get; set; } = TimeSpan.FromSeconds(30);

    internal void Validate()
    {
        foreach (var url in Urls)
            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
                throw new ArgumentException($"derp.urls entry '{url}' is not an http(s) URL.");
        if (AutoUpdateEnabled && UpdateFrequency <= TimeSpan.Zero)
            throw new ArgumentException("derp.update_frequency must be positive.");
        EmbeddedRegion?.Validate();
    }
}

/// <summary><c>derp.server.region_*</c>, <c>ipv4</c>/<c>ipv6</c>, <c>automatically_add_embedded_derp_region</c> plus the URLs the node is built from.</summary>
public sealed class DerpEmbeddedRegionOptions
{
    public int RegionId { get; set; } = 999;
    public string RegionCode { get; set; } = "headscale";
    public string RegionName { get; set; } = "Headscale Embedded DERP";
    public bool AutomaticallyAddEmbeddedRegion { get; set; } = true;

    /// <summary><c>server_url</c>: host name and DERP port of the node.</summary>
    public string ServerUrl { get; set; } = "";

    /// <summary><c>derp.server.stun_listen_addr</c>: its port becomes the node's STUN port.</summary>
    public string? StunListenAddr { get; set; }

    public string? IPv4 { get; set; }
    public string? IPv6 { get; set; }

    internal void Validate()
    {
        if (RegionId <= 0) throw new ArgumentException($"derp.server.region_id must be positive, got {RegionId}.");
        if (!Uri.TryCreate(ServerUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            throw new ArgumentException($"server_url '{ServerUrl}' must be an http(s) URL for the embedded DERP region.");
        if (string.IsNullOrWhiteSpace(StunListenAddr))
            throw new ArgumentException("derp.server.stun_listen_addr is required when the embedded DERP server is enabled.");
        Stun.StunServer.ParseListenAddress(StunListenAddr);
        if (IPv4 is not null && !(System.Net.IPAddress.TryParse(IPv4, out var v4) && v4.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork))
            throw new ArgumentException($"derp.server.ipv4 '{IPv4}' is not an IPv4 address.");
        if (IPv6 is not null && !(System.Net.IPAddress.TryParse(IPv6, out var v6) && v6.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6))
            throw new ArgumentException($"derp.server.ipv6 '{IPv6}' is not an IPv6 address.");
    }
}
