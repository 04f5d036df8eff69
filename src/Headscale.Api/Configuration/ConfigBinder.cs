using System.Collections.Immutable;
using System.Net;
using Headscale.Actors.Hosting;
using Headscale.Actors.Persistence;
using Microsoft.Extensions.Logging;
using YamlDotNet.RepresentationModel;

namespace Headscale.Api.Configuration;

/// <summary>
/// Turns <see cref="RawConfig"/> into a validated <see cref="HeadscaleConfig"/>, collecting every
/// problem (each names its key) instead of stopping at the first.
/// </summary>
public static class ConfigBinder
{
    public static readonly IPNetwork TailscaleIPv4Range = IPNetwork.Parse("100.64.0.0/10");
    public static readonly IPNetwork TailscaleIPv6Range = IPNetwork.Parse("fd7a:115c:a1e0::/48");

    /// <summary>Where state lives when the config does not say: relative to the config file or working directory.</summary>
    public const string DefaultDataDirectory = "data";

    public static (HeadscaleConfig? Config, IReadOnlyList<ConfigProblem> Problems) Bind(RawConfig raw)
    {
        var r = new ConfigReader(raw);

        var serverUrl = ServerUrl(r);
        var listen = r.Address("listen_addr", "127.0.0.1:8080");
        var metrics = r.Address("metrics_listen_addr", "127.0.0.1:9090", allowEmpty: true);
        var grpc = r.Address("grpc_listen_addr", "127.0.0.1:50443");
        var noiseKey = r.Path("noise.private_key_path", Path.Combine(DefaultDataDirectory, "noise_private.key"));
        if (noiseKey.Length == 0)
        {
            r.Fail("noise.private_key_path", "must not be empty");
        }

        r.WritableFileLocation("noise.private_key_path", noiseKey);
        var unixSocket = r.Path("unix_socket", Path.Combine(DefaultDataDirectory, "headscale.sock"));
        var socketPermission = UnixPermission(r);

        var v4 = r.Prefix("prefixes.v4", "100.64.0.0/10", TailscaleIPv4Range, "100.64.0.0/10");
        var v6 = r.Prefix("prefixes.v6", "fd7a:115c:a1e0::/48", TailscaleIPv6Range, "fd7a:115c:a1e0::/48");
        if (r.Has("prefixes.v4") && r.Has("prefixes.v6") && r.String("prefixes.v4", "").Trim().Length == 0 && r.String("prefixes.v6", "").Trim().Length == 0)
        {
            r.Fail("prefixes", "at least one of prefixes.v4 and prefixes.v6 is required");
        }

        var allocation = r.Choice("prefixes.allocation", IpAllocationStrategy.Sequential,
            ("sequential", IpAllocationStrategy.Sequential), ("random", IpAllocationStrategy.Random));

        var database = Database(r);
        var derp = Derp(r, noiseKey);
        var node = Node(r);
        var policy = Policy(r);
        var dns = Dns(r, serverUrl);
        var log = new LogConfig(
            r.Choice("log.level", LogLevel.Information,
                ("trace", LogLevel.Trace), ("debug", LogLevel.Debug), ("info", LogLevel.Information),
                ("warn", LogLevel.Warning), ("error", LogLevel.Error), ("fatal", LogLevel.Critical),
                ("panic", LogLevel.Critical), ("disabled", LogLevel.None)),
            r.Choice("log.format", false, ("text", false), ("json", true)));

        var cli = new CliConfig
        {
            Address = r.String("cli.address", ""),
            ApiKey = r.String("cli.api_key", ""),
            Timeout = r.Duration("cli.timeout", TimeSpan.FromSeconds(5)),
            Insecure = r.Bool("cli.insecure", false),
        };
        var tuning = new TuningConfig
        {
            BatchChangeDelay = r.Duration("tuning.batch_change_delay", TimeSpan.FromMilliseconds(800)),
            NodeMapSessionBufferedChannelSize = r.Int("tuning.node_mapsession_buffered_chan_size", 30, 1, 100_000),
            RegisterCacheExpiration = r.Duration("tuning.register_cache_expiration", TimeSpan.FromMinutes(15)),
            RegisterCacheCleanup = r.Duration("tuning.register_cache_cleanup", TimeSpan.FromMinutes(20)),
            MapCoalesceWindow = r.Duration("tuning.map_coalesce_window", Headscale.Actors.NetworkMap.NetworkMapActor.DefaultFlushWindow, TimeSpan.Zero, TimeSpan.FromSeconds(1)),
            MapKeepAliveInterval = r.Has("tuning.map_keepalive_interval")
                ? r.Duration("tuning.map_keepalive_interval", TimeSpan.FromSeconds(50), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(110))
                : null,
            MemoryReclaim = r.Bool("tuning.memory_reclaim", true),
        };
        var cluster = new ClusterSettings
        {
            Hostname = r.String("cluster.hostname", "127.0.0.1"),
            Port = r.Int("cluster.port", 0, 0, 65535),
            SeedNodes = SeedNodes(r),
        };
        var trustedProxies = TrustedProxies(r);
        var tlsCert = r.Path("tls_cert_path", "");
        var tlsKey = r.Path("tls_key_path", "");
        if ((tlsCert.Length == 0) != (tlsKey.Length == 0))
        {
            r.Fail(tlsCert.Length == 0 ? "tls_cert_path" : "tls_key_path", "tls_cert_path and tls_key_path must be set together");
        }

        r.ReadableFile("tls_cert_path", tlsCert);
        r.ReadableFile("tls_key_path", tlsKey);

        if (r.Problems.Count > 0 || serverUrl is null || listen is null || grpc is null)
        {
            return (null, r.Problems);
        }

        var config = new HeadscaleConfig
        {
            FilePath = raw.FilePath,
            ServerUrl = serverUrl,
            ListenAddress = listen,
            MetricsListenAddress = metrics,
            GrpcListenAddress = grpc,
            GrpcAllowInsecure = r.Bool("grpc_allow_insecure", false),
            TlsCertPath = tlsCert,
            TlsKeyPath = tlsKey,
            NoisePrivateKeyPath = noiseKey,
            UnixSocket = unixSocket,
            UnixSocketPermission = socketPermission,
            TrustedProxies = trustedProxies,
            Prefixes = new PrefixesConfig(v4, v6, allocation),
            Database = database,
            Derp = derp,
            Node = node,
            Policy = policy,
            Dns = dns,
            Log = log,
            Cli = cli,
            Tuning = tuning,
            Cluster = cluster,
            LogtailEnabled = r.Bool("logtail.enabled", false),
            RandomizeClientPort = r.Bool("randomize_client_port", false),
            TaildropEnabled = r.Bool("taildrop.enabled", true),
        };
        return (r.Problems.Count == 0 ? config : null, r.Problems);
    }

    private static Uri? ServerUrl(ConfigReader r)
    {
        var text = r.String("server_url", "http://127.0.0.1:8080").Trim();
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            r.Fail("server_url", $"'{text}' must be an absolute URL starting with http:// or https://");
            return null;
        }

        return uri;
    }

    private static int UnixPermission(ConfigReader r)
    {
        var text = r.String("unix_socket_permission", "0770").Trim();
        var digits = text.StartsWith("0o", StringComparison.OrdinalIgnoreCase) ? text[2..] : text;
        try
        {
            var value = Convert.ToInt32(digits, 8);
            if (value is >= 0 and <= 0x1FF)
            {
                return value;
            }
        }
        catch (FormatException)
        {
        }
        catch (ArgumentException)
        {
        }

        r.Fail("unix_socket_permission", $"'{text}' is not an octal file mode such as 0770");
        return Convert.ToInt32("770", 8);
    }

    private static DatabaseSettings Database(ConfigReader r)
    {
        var kind = r.Choice("database.type", DatabaseKind.Sqlite,
            ("sqlite", DatabaseKind.Sqlite), ("sqlite3", DatabaseKind.Sqlite), ("postgres", DatabaseKind.Postgres));
        if (kind == DatabaseKind.Sqlite)
        {
            var path = r.Path("database.sqlite.path", Path.Combine(DefaultDataDirectory, "db.sqlite"));
            if (path.Length == 0)
            {
                r.Fail("database.sqlite.path", "must not be empty when database.type is sqlite");
            }

            r.WritableFileLocation("database.sqlite.path", path);
            return new DatabaseSettings
            {
                Kind = kind,
                SqlitePath = path,
                SqliteWriteAheadLog = r.Bool("database.sqlite.write_ahead_log", true),
            };
        }

        var host = r.String("database.postgres.host", "").Trim();
        var name = r.String("database.postgres.name", "").Trim();
        if (host.Length == 0)
        {
            r.Fail("database.postgres.host", "is required when database.type is postgres");
        }

        if (name.Length == 0)
        {
            r.Fail("database.postgres.name", "is required when database.type is postgres");
        }

        var ssl = r.String("database.postgres.ssl", "false");
        try
        {
            DatabaseSettings.ParseSslMode(ssl);
        }
        catch (ArgumentException)
        {
            r.Fail("database.postgres.ssl", $"'{ssl}' is not true, false or a PostgreSQL sslmode (disable, allow, prefer, require, verify-ca, verify-full)");
            ssl = "false";
        }

        return new DatabaseSettings
        {
            Kind = kind,
            PostgresHost = host,
            PostgresPort = r.Int("database.postgres.port", 5432, 1, 65535),
            PostgresDatabase = name,
            PostgresUser = r.String("database.postgres.user", ""),
            PostgresPassword = r.String("database.postgres.pass", ""),
            PostgresSslMode = ssl,
            PostgresMaxPoolSize = r.Int("database.postgres.max_open_conns", 10, 1, 1000),
        };
    }

    private static DerpConfig Derp(ConfigReader r, string noiseKeyPath)
    {
        var enabled = r.Bool("derp.server.enabled", false);
        var keyPath = r.Path("derp.server.private_key_path", Path.Combine(DefaultDataDirectory, "derp_server_private.key"));
        var stun = r.Address("derp.server.stun_listen_addr", enabled ? "0.0.0.0:3478" : "", allowEmpty: !enabled);
        if (enabled)
        {
            r.WritableFileLocation("derp.server.private_key_path", keyPath);
            if (keyPath == noiseKeyPath)
            {
                r.Fail("derp.server.private_key_path", "must differ from noise.private_key_path");
            }
        }

        var urls = ImmutableArray.CreateBuilder<Uri>();
        foreach (var text in r.List("derp.urls"))
        {
            if (Uri.TryCreate(text, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps))
            {
                urls.Add(uri);
            }
            else
            {
                r.Fail("derp.urls", $"'{text}' is not an http(s) URL");
            }
        }

        var paths = r.List("derp.paths").Select(p => Path.GetFullPath(p, r.Raw.BaseDirectory)).ToImmutableArray();
        foreach (var path in paths)
        {
            r.ReadableFile("derp.paths", path);
        }

        return new DerpConfig
        {
            ServerEnabled = enabled,
            RegionId = r.Int("derp.server.region_id", 999, 1, int.MaxValue),
            RegionCode = r.String("derp.server.region_code", "headscale"),
            RegionName = r.String("derp.server.region_name", "Headscale Embedded DERP"),
            VerifyClients = r.Bool("derp.server.verify_clients", true),
            StunListenAddress = stun,
            PrivateKeyPath = keyPath,
            AutomaticallyAddEmbeddedRegion = r.Bool("derp.server.automatically_add_embedded_derp_region", true),
            Ipv4 = OptionalAddress(r, "derp.server.ipv4", System.Net.Sockets.AddressFamily.InterNetwork),
            Ipv6 = OptionalAddress(r, "derp.server.ipv6", System.Net.Sockets.AddressFamily.InterNetworkV6),
            Urls = urls.ToImmutable(),
            Paths = paths,
            AutoUpdate = r.Bool("derp.auto_update_enabled", true),
            UpdateFrequency = r.Duration("derp.update_frequency", TimeSpan.FromHours(3)),
            MeshKey = enabled ? DerpMeshConfig.MeshKey(r) : null,
            MeshWith = enabled ? DerpMeshConfig.MeshWith(r) : [],
        };
    }

    private static IPAddress? OptionalAddress(ConfigReader r, string key, System.Net.Sockets.AddressFamily family)
    {
        var text = r.String(key, "").Trim();
        if (text.Length == 0)
        {
            return null;
        }

        if (IPAddress.TryParse(text, out var ip) && ip.AddressFamily == family)
        {
            return ip;
        }

        r.Fail(key, $"'{text}' is not an {(family == System.Net.Sockets.AddressFamily.InterNetwork ? "IPv4" : "IPv6")} address");
        return null;
    }

    private static NodeConfig Node(ConfigReader r)
    {
        const string legacyKey = "ephemeral_node_inactivity_timeout";
        const string key = "node.ephemeral.inactivity_timeout";
        var usedKey = r.Has(key) ? key : legacyKey;
        var timeout = r.Duration(usedKey, TimeSpan.FromSeconds(120));
        if (timeout <= TimeSpan.FromSeconds(65))
        {
            r.Fail(usedKey, $"{GoDuration.Format(timeout)} is too short: it must be more than 65s, or clients that are merely reconnecting are removed");
        }

        return new NodeConfig { Expiry = r.Duration("node.expiry", TimeSpan.Zero), EphemeralInactivityTimeout = timeout };
    }

    private static PolicyConfig Policy(ConfigReader r)
    {
        var mode = r.Choice("policy.mode", PolicyMode.File, ("file", PolicyMode.File), ("database", PolicyMode.Database));
        var path = r.Path("policy.path", "");
        if (mode == PolicyMode.File)
        {
            r.ReadableFile("policy.path", path);
        }

        return new PolicyConfig(mode, path.Length == 0 ? null : path);
    }

    private static DnsConfig Dns(ConfigReader r, Uri? serverUrl)
    {
        var magic = r.Bool("dns.magic_dns", true);
        var baseDomain = r.String("dns.base_domain", "").Trim().TrimEnd('.').ToLowerInvariant();
        var overrideLocal = r.Bool("dns.override_local_dns", true);
        var global = r.List("dns.nameservers.global");
        if (magic && baseDomain.Length == 0 && r.Has("dns.magic_dns"))
        {
            r.Fail("dns.base_domain", "is required when dns.magic_dns is true");
        }

        if (baseDomain.Length > 0 && serverUrl is not null)
        {
            var host = serverUrl.Host.ToLowerInvariant();
            if (host == baseDomain || host.EndsWith("." + baseDomain, StringComparison.Ordinal))
            {
                r.Fail("dns.base_domain", $"server_url host '{host}' must not be the same as or inside the MagicDNS base domain '{baseDomain}'");
            }
        }

        if (overrideLocal && global.IsEmpty && r.Has("dns.override_local_dns"))
        {
            r.Fail("dns.nameservers.global", "at least one global nameserver is required when dns.override_local_dns is true");
        }

        var extraRecordsPath = r.Path("dns.extra_records_path", "");
        var extraRecords = ExtraRecords(r);
        if (extraRecordsPath.Length > 0)
        {
            if (r.Has("dns.extra_records"))
            {
                r.Fail("dns.extra_records_path", "cannot be combined with dns.extra_records");
            }

            extraRecords = ExtraRecordsFromFile(r, extraRecordsPath);
        }

        return new DnsConfig
        {
            MagicDns = magic,
            BaseDomain = baseDomain,
            OverrideLocalDns = overrideLocal,
            GlobalNameservers = global,
            SplitNameservers = Split(r),
            SearchDomains = r.List("dns.search_domains"),
            ExtraRecords = extraRecords,
            ExtraRecordsPath = extraRecordsPath.Length == 0 ? null : extraRecordsPath,
        };
    }

    private static ImmutableDictionary<string, ImmutableArray<string>> Split(ConfigReader r)
    {
        const string key = "dns.nameservers.split";
        var result = ImmutableDictionary.CreateBuilder<string, ImmutableArray<string>>(StringComparer.Ordinal);
        switch (r.Node(key))
        {
            case null:
                break;
            case YamlMappingNode mapping:
                foreach (var (domainNode, serversNode) in mapping.Children)
                {
                    var domain = (domainNode as YamlScalarNode)?.Value ?? "";
                    if (serversNode is YamlSequenceNode servers && servers.All(s => s is YamlScalarNode))
                    {
                        result[domain] = servers.Cast<YamlScalarNode>().Select(s => s.Value ?? "").ToImmutableArray();
                    }
                    else
                    {
                        r.Fail(key, $"'{domain}' must map to a list of nameservers");
                    }
                }

                break;
            default:
                r.Fail(key, "expected a mapping of domain to a list of nameservers");
                break;
        }

        return result.ToImmutable();
    }

    private static ImmutableArray<DnsExtraRecord> ExtraRecords(ConfigReader r)
    {
        const string key = "dns.extra_records";
        var node = r.Node(key);
        if (node is null)
        {
            return [];
        }

        if (node is not YamlSequenceNode sequence)
        {
            r.Fail(key, "expected a list of {name, type, value}");
            return [];
        }

        var records = ImmutableArray.CreateBuilder<DnsExtraRecord>();
        foreach (var item in sequence.Children)
        {
            if (item is not YamlMappingNode m)
            {
                r.Fail(key, $"every record needs name, type and value (line {item.Start.Line})");
                continue;
            }

            var (name, type, value) = (Field(m, "name"), Field(m, "type"), Field(m, "value"));
            if (ExtraRecordsJson.Validate(name, type, value) is { } problem)
            {
                r.Fail(key, $"{problem} (line {item.Start.Line})");
                continue;
            }

            records.Add(new DnsExtraRecord(name!, type!.ToUpperInvariant(), value!));
        }

        return records.ToImmutable();
    }

    /// <summary>The records in the file at start; the server watches it and reloads it while running.</summary>
    private static ImmutableArray<DnsExtraRecord> ExtraRecordsFromFile(ConfigReader r, string path)
    {
        const string key = "dns.extra_records_path";
        byte[] json;
        try
        {
            json = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            r.Fail(key, File.Exists(path) ? $"file '{path}' cannot be read: {e.Message}" : $"file '{path}' does not exist");
            return [];
        }

        if (!ExtraRecordsJson.TryParse(json, out var records, out var error))
        {
            r.Fail(key, $"file '{path}': {error}");
        }

        return records;
    }

    private static string? Field(YamlMappingNode mapping, string name) =>
        mapping.Children.TryGetValue(new YamlScalarNode(name), out var v) ? (v as YamlScalarNode)?.Value : null;

    private static ImmutableArray<string> SeedNodes(ConfigReader r)
    {
        var seeds = r.List("cluster.seed_nodes");
        foreach (var seed in seeds)
        {
            if (!Uri.TryCreate(seed, UriKind.Absolute, out var uri) || uri.Scheme != "akka.tcp" || uri.Port <= 0)
            {
                r.Fail("cluster.seed_nodes", $"'{seed}' is not an Akka address like akka.tcp://headscale@10.0.0.1:4053");
            }
        }

        return seeds;
    }

    private static ImmutableArray<IPNetwork> TrustedProxies(ConfigReader r)
    {
        var result = ImmutableArray.CreateBuilder<IPNetwork>();
        foreach (var text in r.List("trusted_proxies"))
        {
            if (IPNetwork.TryParse(text, out var network))
            {
                result.Add(network);
            }
            else if (IPAddress.TryParse(text, out var ip))
            {
                result.Add(new IPNetwork(ip, ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128));
            }
            else
            {
                r.Fail("trusted_proxies", $"'{text}' is not an IP address or CIDR prefix");
            }
        }

        return result.ToImmutable();
    }
}
