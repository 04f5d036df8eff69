using Headscale.Actors.Persistence;
using Headscale.Api.Configuration;
using Xunit;

namespace Headscale.Api.Tests.Configuration;

public sealed class ConfigValidationTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "hs-config-" + Guid.NewGuid().ToString("N")[..12]);

    public ConfigValidationTests() => Directory.CreateDirectory(_directory);

    [Fact]
    public void No_file_at_all_gives_working_defaults_under_the_working_directory()
    {
        var (config, problems) = Bind(yaml: null);

        Assert.Empty(problems);
        Assert.NotNull(config);
        Assert.Equal(new Uri("http://127.0.0.1:8080"), config.ServerUrl);
        Assert.Equal("127.0.0.1:8080", config.ListenAddress.ToString());
        Assert.Equal("127.0.0.1:9090", config.MetricsListenAddress?.ToString());
        Assert.Equal(DatabaseKind.Sqlite, config.Database.Kind);
        Assert.Equal(Path.Combine(_directory, "data", "db.sqlite"), config.Database.SqlitePath);
        Assert.Equal(Path.Combine(_directory, "data", "noise_private.key"), config.NoisePrivateKeyPath);
        Assert.Equal("100.64.0.0/10", config.Prefixes.V4?.ToString());
        Assert.Equal("fd7a:115c:a1e0::/48", config.Prefixes.V6?.ToString());
        Assert.Equal(TimeSpan.FromSeconds(120), config.Node.EphemeralInactivityTimeout);
        Assert.Equal(PolicyMode.File, config.Policy.Mode);
        Assert.Equal(TimeSpan.FromMilliseconds(20), config.Tuning.MapCoalesceWindow);
        Assert.True(config.Tuning.MemoryReclaim);
    }

    [Fact]
    public void Giving_memory_back_after_a_storm_can_be_turned_off()
    {
        var (off, problems) = Bind("tuning:\n  memory_reclaim: false\n");

        Assert.Empty(problems);
        Assert.False(off!.Tuning.MemoryReclaim);
    }

    [Fact]
    public void The_map_coalescing_window_can_be_set_or_turned_off()
    {
        var (set, setProblems) = Bind("tuning:\n  map_coalesce_window: 50ms\n");
        var (off, offProblems) = Bind("tuning:\n  map_coalesce_window: 0s\n");

        Assert.Empty(setProblems);
        Assert.Empty(offProblems);
        Assert.Equal(TimeSpan.FromMilliseconds(50), set!.Tuning.MapCoalesceWindow);
        Assert.Equal(TimeSpan.Zero, off!.Tuning.MapCoalesceWindow);
    }

    [Fact]
    public void A_full_good_config_binds_every_section()
    {
        File.WriteAllText(Path.Combine(_directory, "policy.hujson"), "{}");
        var (config, problems) = Bind("""
            server_url: https://hs.example.org
            listen_addr: 0.0.0.0:8080
            metrics_listen_addr: ""
            grpc_listen_addr: ":50443"
            noise:
              private_key_path: keys/noise.key
            prefixes:
              v4: 100.64.0.0/16
              v6: fd7a:115c:a1e0:1::/64
              allocation: random
            database:
              type: postgres
              postgres:
                host: db.internal
                port: 5433
                name: headscale
                user: hs
                pass: secret
                ssl: require
            ephemeral_node_inactivity_timeout: 30m
            policy:
              mode: file
              path: policy.hujson
            dns:
              magic_dns: true
              base_domain: tailnet.example.com
              nameservers:
                global: [1.1.1.1]
                split:
                  corp.example.com: [10.0.0.1]
              extra_records:
                - name: grafana.tailnet.example.com
                  type: A
                  value: 100.64.0.3
            log:
              level: debug
              format: json
            cluster:
              port: 4053
              seed_nodes: ["akka.tcp://headscale@10.0.0.1:4053"]
            """);

        Assert.Empty(problems);
        Assert.NotNull(config);
        Assert.Null(config.MetricsListenAddress);
        Assert.Equal(Path.Combine(_directory, "keys", "noise.key"), config.NoisePrivateKeyPath);
        Assert.Equal(IpAllocationStrategy.Random, config.Prefixes.Allocation);
        Assert.Equal(DatabaseKind.Postgres, config.Database.Kind);
        Assert.Contains("SSL Mode=Require", config.Database.ConnectionString);
        Assert.Contains("Maximum Pool Size=10", config.Database.ConnectionString);
        Assert.Equal(TimeSpan.FromMinutes(30), config.Node.EphemeralInactivityTimeout);
        Assert.Equal("tailnet.example.com", config.Dns.BaseDomain);
        Assert.Equal(["10.0.0.1"], config.Dns.SplitNameservers["corp.example.com"]);
        Assert.Single(config.Dns.ExtraRecords);
        Assert.True(config.Log.Json);
        Assert.Equal(4053, config.Cluster.Port);
        Assert.Single(config.Cluster.SeedNodes);
    }

    [Theory]
    [InlineData("prefixes:\n  v4: 10.0.0.0/8\n", "prefixes.v4", "outside 100.64.0.0/10")]
    [InlineData("prefixes:\n  v4: 100.0.0.0/8\n", "prefixes.v4", "outside 100.64.0.0/10")]
    [InlineData("prefixes:\n  v6: fd00::/8\n", "prefixes.v6", "outside fd7a:115c:a1e0::/48")]
    [InlineData("prefixes:\n  v4: banana\n", "prefixes.v4", "not a CIDR prefix")]
    [InlineData("prefixes:\n  allocation: clever\n", "prefixes.allocation", "not one of: sequential, random")]
    [InlineData("database:\n  type: mysql\n", "database.type", "'mysql' is not one of: sqlite, sqlite3, postgres")]
    [InlineData("database:\n  type: postgres\n", "database.postgres.host", "is required")]
    [InlineData("database:\n  type: postgres\n  postgres:\n    host: h\n    name: n\n    port: 70000\n", "database.postgres.port", "from 1 to 65535")]
    [InlineData("database:\n  type: postgres\n  postgres:\n    host: h\n    name: n\n    ssl: maybe\n", "database.postgres.ssl", "not true, false or a PostgreSQL sslmode")]
    [InlineData("ephemeral_node_inactivity_timeout: 5 minutes\n", "ephemeral_node_inactivity_timeout", "not a duration")]
    [InlineData("ephemeral_node_inactivity_timeout: 30s\n", "ephemeral_node_inactivity_timeout", "must be more than 65s")]
    [InlineData("derp:\n  update_frequency: often\n", "derp.update_frequency", "not a duration")]
    [InlineData("noise:\n  private_key_path: /etc/hostname/noise.key\n", "noise.private_key_path", "is a file, not a directory")]
    [InlineData("database:\n  sqlite:\n    path: /etc/hostname/db.sqlite\n", "database.sqlite.path", "is a file, not a directory")]
    [InlineData("policy:\n  path: /no/such/policy.hujson\n", "policy.path", "does not exist")]
    [InlineData("server_url: hs.example.org\n", "server_url", "must be an absolute URL starting with http:// or https://")]
    [InlineData("listen_addr: 127.0.0.1\n", "listen_addr", "is not host:port")]
    [InlineData("listen_addr: 127.0.0.1:99999\n", "listen_addr", "is not a port number")]
    [InlineData("log:\n  level: loud\n", "log.level", "not one of")]
    [InlineData("dns:\n  magic_dns: true\n  base_domain: \"\"\n  nameservers:\n    global: [1.1.1.1]\n", "dns.base_domain", "is required when dns.magic_dns is true")]
    [InlineData("server_url: https://hs.example.com\ndns:\n  base_domain: example.com\n  nameservers:\n    global: [1.1.1.1]\n", "dns.base_domain", "must not be the same as or inside")]
    [InlineData("acl_policy_path: /etc/headscale/acl.hujson\n", "acl_policy_path", "use policy.path")]
    [InlineData("grpc_allow_insecure: sometimes\n", "grpc_allow_insecure", "not a boolean")]
    [InlineData("cluster:\n  seed_nodes: [\"10.0.0.1:4053\"]\n", "cluster.seed_nodes", "not an Akka address")]
    [InlineData("dns:\n  nameservers: [1.1.1.1]\n", "dns.nameservers", "expected a mapping")]
    [InlineData("prefixes: [1, 2]\n", "prefixes", "expected a mapping")]
    [InlineData("dns:\n  base_domain: t.example\n  extra_records:\n    - {name: mail.t.example, type: MX, value: 10 mail}\n", "dns.extra_records", "'MX' is not supported (A or AAAA)")]
    [InlineData("dns:\n  base_domain: t.example\n  extra_records:\n    - {name: a.t.example, type: A, value: fd7a::1}\n", "dns.extra_records", "not an IPv4 address for a A record")]
    [InlineData("dns:\n  base_domain: t.example\n  extra_records_path: /no/such/records.json\n", "dns.extra_records_path", "does not exist")]
    [InlineData("tuning:\n  map_coalesce_window: -5ms\n", "tuning.map_coalesce_window", "not a duration")]
    [InlineData("tuning:\n  map_coalesce_window: 2s\n", "tuning.map_coalesce_window", "must be from 0s to 1s")]
    [InlineData("tuning:\n  map_coalesce_window: soon\n", "tuning.map_coalesce_window", "not a duration")]
    [InlineData("tuning:\n  memory_reclaim: sometimes\n", "tuning.memory_reclaim", "not a boolean")]
    public void Each_bad_value_is_named_by_its_key(string yaml, string key, string message)
    {
        var (config, problems) = Bind(yaml);

        Assert.Null(config);
        var problem = Assert.Single(problems, p => p.Key == key);
        Assert.Contains(message, problem.Message);
    }

    [Theory]
    [InlineData("""[{"name": "a.t.example", "type": "A", "value": "100.64.0.9"}]""", null)]
    [InlineData("""{"name": "a.t.example"}""", "expected a JSON array")]
    [InlineData("""[{"name": "a.t.example", "type": "A", "value": "100.64.0.9"},""", "not valid JSON")]
    [InlineData("""[{"type": "A", "value": "100.64.0.9"}]""", "record 0: \"name\" is missing or empty")]
    [InlineData("""[{"name": "a", "type": "A", "value": "100.64.0.9"}, {"name": "b", "type": "AAAA", "value": "100.64.0.9"}]""", "record 1: \"value\" '100.64.0.9' is not an IPv6 address")]
    [InlineData("""[42]""", "record 0: expected an object")]
    public void An_extra_records_file_is_read_at_start_and_a_bad_one_is_named(string json, string? message)
    {
        File.WriteAllText(Path.Combine(_directory, "records.json"), json);

        var (config, problems) = Bind("dns:\n  base_domain: t.example\n  extra_records_path: records.json\n");

        if (message is null)
        {
            Assert.Empty(problems);
            var record = Assert.Single(config!.Dns.ExtraRecords);
            Assert.Equal(new DnsExtraRecord("a.t.example", "A", "100.64.0.9"), record);
            Assert.Equal(Path.Combine(_directory, "records.json"), config.Dns.ExtraRecordsPath);
        }
        else
        {
            Assert.Null(config);
            Assert.Contains(message, Assert.Single(problems, p => p.Key == "dns.extra_records_path").Message);
        }
    }

    [Fact]
    public void Broken_yaml_reports_line_and_column()
    {
        var (config, problems) = Bind("server_url: http://a\n  listen_addr: : x\n");

        Assert.Null(config);
        var problem = Assert.Single(problems);
        Assert.Contains("not valid YAML at line 2", problem.Message);
    }

    [Fact]
    public void Unterminated_yaml_is_reported_not_thrown()
    {
        var (config, problems) = Bind("server_url: [unclosed\nlisten_addr: x\n");

        Assert.Null(config);
        Assert.Contains("not valid YAML", Assert.Single(problems).Message);
    }

    [Fact]
    public void Every_problem_is_reported_not_just_the_first()
    {
        var (_, problems) = Bind("prefixes:\n  v4: 10.0.0.0/8\ndatabase:\n  type: mysql\nlog:\n  level: loud\n");

        Assert.Equal(["database.type", "log.level", "prefixes.v4"], problems.Select(p => p.Key).Order());
    }

    [Fact]
    public void Unknown_keys_are_warnings_not_errors()
    {
        var raw = Load("server_url: http://127.0.0.1:8080\nno_such_key: 1\n");

        Assert.Contains(raw.Warnings, w => w.Contains("no_such_key"));
        Assert.Empty(ConfigBinder.Bind(raw).Problems);
    }

    [Fact]
    public void Environment_overrides_the_file_and_is_validated_by_key()
    {
        var env = new Dictionary<string, string>
        {
            ["HEADSCALE_LISTEN_ADDR"] = "127.0.0.1:9999",
            ["HEADSCALE_DNS_NAMESERVERS_GLOBAL"] = "1.1.1.1, 9.9.9.9",
            ["HEADSCALE_PREFIXES_V4"] = "192.168.0.0/16",
        };

        var raw = Load("listen_addr: 127.0.0.1:8080\n", env);
        var (config, problems) = ConfigBinder.Bind(raw);

        Assert.Null(config);
        var problem = Assert.Single(problems);
        Assert.Equal("prefixes.v4", problem.Key);

        env.Remove("HEADSCALE_PREFIXES_V4");
        (config, problems) = ConfigBinder.Bind(Load("listen_addr: 127.0.0.1:8080\n", env));
        Assert.Empty(problems);
        Assert.Equal(9999, config!.ListenAddress.Port);
        Assert.Equal(["1.1.1.1", "9.9.9.9"], config.Dns.GlobalNameservers);
    }

    [Fact]
    public void Explicit_config_path_that_does_not_exist_is_an_error()
    {
        var raw = ConfigLoader.Load(Path.Combine(_directory, "missing.yaml"), new Dictionary<string, string>(), _directory);

        var problem = Assert.Single(raw.Problems);
        Assert.Equal("--config", problem.Key);
        Assert.Contains("does not exist", problem.Message);
    }

    [Theory]
    [InlineData("120s", 120_000)]
    [InlineData("1h30m", 5_400_000)]
    [InlineData("800ms", 800)]
    [InlineData("180d", 15_552_000_000)]
    [InlineData("0", 0)]
    [InlineData("1.5h", 5_400_000)]
    public void Go_durations_parse(string text, long milliseconds)
    {
        Assert.True(GoDuration.TryParse(text, out var value));
        Assert.Equal(TimeSpan.FromMilliseconds(milliseconds), value);
    }

    [Theory]
    [InlineData("")]
    [InlineData("5")]
    [InlineData("5 m")]
    [InlineData("m5")]
    [InlineData("5y")]
    public void Bad_go_durations_are_rejected(string text) => Assert.False(GoDuration.TryParse(text, out _));

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private RawConfig Load(string? yaml, IReadOnlyDictionary<string, string>? environment = null)
    {
        string? path = null;
        if (yaml is not null)
        {
            path = Path.Combine(_directory, "config.yaml");
            File.WriteAllText(path, yaml);
        }

        return ConfigLoader.Load(path, environment ?? new Dictionary<string, string>(), _directory);
    }

    private (HeadscaleConfig? Config, IReadOnlyList<ConfigProblem> Problems) Bind(string? yaml) =>
        ConfigBinder.Bind(Load(yaml));
}
