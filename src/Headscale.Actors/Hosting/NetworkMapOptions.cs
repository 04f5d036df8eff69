using Headscale.Actors.NetworkMap;

namespace Headscale.Actors.Hosting;

/// <summary>How the host's network map is fed and what its full maps carry beyond the nodes.</summary>
public sealed record NetworkMapOptions
{
    /// <summary>
    /// The DERP map, DNS config and domain, built by the server from config.yaml. Called before each
    /// full map (so a refreshed DERP map reaches new sessions): return a cached value. Null gives an
    /// empty DERP map and DNS config.
    /// </summary>
    public Func<IServiceProvider, MapSettings>? Settings { get; init; }

    /// <summary><c>policy.mode</c>. Database by default: with no policy stored, everything is allowed, as with none.</summary>
    public NetworkMapPolicySource PolicySource { get; init; } = NetworkMapPolicySource.Database;

    /// <summary><c>policy.path</c> in file mode; empty means no policy.</summary>
    public string? PolicyPath { get; init; }

    /// <summary>How long after its last stream ends a node is shown offline (Headscale: 10 s).</summary>
    public TimeSpan OfflineGrace { get; init; } = NetworkMapActor.OfflineGrace;

    /// <summary>
    /// <c>tuning.map_coalesce_window</c>: the least time between two flushes of changes to the map sessions
    /// (the first change after a quiet spell goes out at once, what follows within the window joins it).
    /// </summary>
    public TimeSpan FlushWindow { get; init; } = NetworkMapActor.DefaultFlushWindow;

    /// <summary>How often each host loads the whole tailnet again to repair a lost notification (decision 0007).</summary>
    public TimeSpan ResyncInterval { get; init; } = TimeSpan.FromMinutes(5);

    public static MapSettings DefaultSettings { get; } = new("", "{}"u8.ToArray(), new Headscale.Protocol.Tailcfg.DnsConfig(), DisableLogTail: true);
}
