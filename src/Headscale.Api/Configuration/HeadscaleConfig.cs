using System.Collections.Immutable;
using System.Net;
using Headscale.Actors.Hosting;
using Headscale.Actors.Persistence;

namespace Headscale.Api.Configuration;

/// <summary>The validated server configuration (Headscale's <c>config.yaml</c>, typed).</summary>
public sealed record HeadscaleConfig
{
    /// <summary>The config file read, or null when running on defaults alone.</summary>
    public string? FilePath { get; init; }

    public required Uri ServerUrl { get; init; }
    public required ListenAddress ListenAddress { get; init; }

    /// <summary>Null when <c>metrics_listen_addr</c> is empty: metrics are off.</summary>
    public ListenAddress? MetricsListenAddress { get; init; }

    public required ListenAddress GrpcListenAddress { get; init; }
    public bool GrpcAllowInsecure { get; init; }

    /// <summary>PEM certificate and key for TLS (the gRPC listener uses them); both empty means none.</summary>
    public string TlsCertPath { get; init; } = "";
    public string TlsKeyPath { get; init; } = "";
    public required string NoisePrivateKeyPath { get; init; }
    public required string UnixSocket { get; init; }
    public int UnixSocketPermission { get; init; }
    public ImmutableArray<IPNetwork> TrustedProxies { get; init; } = [];

    public required PrefixesConfig Prefixes { get; init; }
    public required DatabaseSettings Database { get; init; }
    public required DerpConfig Derp { get; init; }
    public required NodeConfig Node { get; init; }
    public required PolicyConfig Policy { get; init; }
    public required DnsConfig Dns { get; init; }
    public required LogConfig Log { get; init; }
    public required CliConfig Cli { get; init; }
    public required TuningConfig Tuning { get; init; }
    public required ClusterSettings Cluster { get; init; }

    public bool LogtailEnabled { get; init; }
    public bool RandomizeClientPort { get; init; }
    public bool TaildropEnabled { get; init; } = true;
}

public enum IpAllocationStrategy
{
    Sequential,
    Random,
}

public sealed record PrefixesConfig(IPNetwork? V4, IPNetwork? V6, IpAllocationStrategy Allocation);

public sealed record DerpConfig
{
    public bool ServerEnabled { get; init; }
    public int RegionId { get; init; } = 999;
    public string RegionCode { get; init; } = "headscale";
    public string RegionName { get; init; } = "Headscale Embedded DERP";
    public bool VerifyClients { get; init; } = true;
    public ListenAddress? StunListenAddress { get; init; }
    public string PrivateKeyPath { get; init; } = "";
    public bool AutomaticallyAddEmbeddedRegion { get; init; } = true;
    public IPAddress? Ipv4 { get; init; }
    public IPAddress? Ipv6 { get; init; }
    public ImmutableArray<Uri> Urls { get; init; } = [];
    public ImmutableArray<string> Paths { get; init; } = [];
    public bool AutoUpdate { get; init; } = true;
    public TimeSpan UpdateFrequency { get; init; } = TimeSpan.FromHours(3);

    /// <summary>The 32-byte mesh key read from <c>derp.server.mesh_key_path</c>; null: no mesh (a byte array never prints its content).</summary>
    public byte[]? MeshKey { get; init; }

    /// <summary><c>derp.server.mesh_with</c>: the DERP URLs of the other servers of the region.</summary>
    public ImmutableArray<Uri> MeshWith { get; init; } = [];
}

public sealed record NodeConfig
{
    /// <summary>Default node key expiry; zero means nodes do not expire.</summary>
    public TimeSpan Expiry { get; init; }

    public TimeSpan EphemeralInactivityTimeout { get; init; } = TimeSpan.FromSeconds(120);
}

public enum PolicyMode
{
    File,
    Database,
}

public sealed record PolicyConfig(PolicyMode Mode, string? Path);

public sealed record DnsExtraRecord(string Name, string Type, string Value);

public sealed record DnsConfig
{
    public bool MagicDns { get; init; } = true;
    public string BaseDomain { get; init; } = "";
    public bool OverrideLocalDns { get; init; } = true;
    public ImmutableArray<string> GlobalNameservers { get; init; } = [];
    public ImmutableDictionary<string, ImmutableArray<string>> SplitNameservers { get; init; } = ImmutableDictionary<string, ImmutableArray<string>>.Empty;
    public ImmutableArray<string> SearchDomains { get; init; } = [];
    public ImmutableArray<DnsExtraRecord> ExtraRecords { get; init; } = [];
    public string? ExtraRecordsPath { get; init; }
}

public sealed record LogConfig(Microsoft.Extensions.Logging.LogLevel Level, bool Json);

public sealed record CliConfig
{
    public string Address { get; init; } = "";
    public string ApiKey { get; init; } = "";
    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);
    public bool Insecure { get; init; }
}

public sealed record TuningConfig
{
    public TimeSpan BatchChangeDelay { get; init; } = TimeSpan.FromMilliseconds(800);
    public int NodeMapSessionBufferedChannelSize { get; init; } = 30;
    public TimeSpan RegisterCacheExpiration { get; init; } = TimeSpan.FromMinutes(15);
    public TimeSpan RegisterCacheCleanup { get; init; } = TimeSpan.FromMinutes(20);

    /// <summary>
    /// Least time between two flushes of network map changes to the map streams: the first change after a
    /// quiet spell goes out at once, what follows within the window joins the next flush (0: flush as soon as
    /// the changes already queued are applied). Not a Headscale key: its <c>batch_change_delay</c> delays every change.
    /// </summary>
    public TimeSpan MapCoalesceWindow { get; init; } = Headscale.Actors.NetworkMap.NetworkMapActor.DefaultFlushWindow;

    /// <summary>Keep-alive interval of map streams; null: Headscale's 50 s plus up to 9 s of jitter.</summary>
    public TimeSpan? MapKeepAliveInterval { get; init; }

    /// <summary>
    /// Give the memory a storm grew back to the system once the server is quiet, with one aggressive (pausing)
    /// collection at most every 30 s and every 100 times its last pause (decision 0910). Not a Headscale key.
    /// </summary>
    public bool MemoryReclaim { get; init; } = true;
}
