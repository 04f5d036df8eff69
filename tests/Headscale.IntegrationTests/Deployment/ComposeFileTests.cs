using System.Net;
using YamlDotNet.RepresentationModel;

namespace Headscale.IntegrationTests.Deployment;

/// <summary>
/// Static checks of compose/docker-compose.yml and its development override (no Docker engine here):
/// they parse, refer only to what they define, and wire the stack as docs/deployment.md describes.
/// </summary>
public sealed class ComposeFileTests
{
    private static readonly ComposeDocument Production = ComposeDocument.Load("compose", "docker-compose.yml");
    private static readonly ComposeDocument Development = ComposeDocument.Load("compose", "docker-compose.override.yml");

    [Fact]
    public void The_stack_has_exactly_its_five_services()
    {
        Assert.Equal(["certbot", "headplane", "headscale", "nginx", "postgres"], Production.Services.Keys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void The_override_only_adjusts_services_the_stack_defines()
    {
        Assert.All(Development.Services.Keys, name => Assert.Contains(name, Production.Services.Keys));
        Assert.Empty(Development.Volumes);
        Assert.Empty(Development.Networks);
    }

    [Fact]
    public void Every_reference_names_a_defined_service_volume_or_network()
    {
        foreach (var file in new[] { Production, Development })
        {
            foreach (var (name, service) in file.Services)
            {
                Assert.All(ComposeDocument.DependsOn(service), dependency => Assert.Contains(dependency, Production.Services.Keys));
                Assert.All(ComposeDocument.NetworksOf(service), network => Assert.Contains(network, Production.Networks));
                foreach (var (source, _) in ComposeDocument.VolumeMounts(service).Where(m => !ComposeDocument.IsBindMount(m.Source)))
                {
                    Assert.True(Production.Volumes.Contains(source), $"{name} mounts undefined volume '{source}'");
                }

                if (ComposeDocument.Get(service, "pid") is { } pid && pid.StartsWith("service:", StringComparison.Ordinal))
                {
                    Assert.Contains(pid["service:".Length..], Production.Services.Keys);
                }
            }
        }
    }

    [Fact]
    public void Bind_mounts_point_at_files_in_the_repository()
    {
        foreach (var (name, service) in Production.Services.Concat(Development.Services))
        {
            foreach (var (source, _) in ComposeDocument.VolumeMounts(service).Where(m => ComposeDocument.IsBindMount(m.Source)))
            {
                var path = Path.GetFullPath(Path.Combine(RepositoryFiles.PathOf("compose"), source));
                if (path.StartsWith(RepositoryFiles.PathOf("logs"), StringComparison.Ordinal))
                {
                    continue; // created by the engine on first start; kept out of git
                }

                Assert.True(File.Exists(path) || Directory.Exists(path), $"{name} mounts {source}, which does not exist");
            }
        }
    }

    [Fact]
    public void Every_service_is_on_the_headscale_bridge_network()
    {
        Assert.Equal("bridge", ComposeDocument.Get(Production.Root, "networks", "headscale-network", "driver"));
        Assert.All(Production.Services, s => Assert.Contains("headscale-network", ComposeDocument.NetworksOf(s.Value)));
    }

    [Fact]
    public void Postgres_is_private_with_a_readiness_check_and_a_named_volume()
    {
        var postgres = Production.Service("postgres");

        Assert.Equal("postgres:18-alpine", ComposeDocument.Get(postgres, "image"));
        Assert.Empty(ComposeDocument.Ports(postgres));
        Assert.Contains("pg_isready", ComposeDocument.Get(postgres, "healthcheck", "test"), StringComparison.Ordinal);
        Assert.Contains(("postgres-data", "/var/lib/postgresql"), ComposeDocument.VolumeMounts(postgres));
    }

    [Fact]
    public void Headscale_is_built_here_waits_for_the_database_and_keeps_metrics_on_localhost()
    {
        var headscale = Production.Service("headscale");

        Assert.Equal("..", ComposeDocument.Get(headscale, "build", "context"));
        Assert.True(File.Exists(RepositoryFiles.PathOf(ComposeDocument.Get(headscale, "build", "dockerfile")!)));
        Assert.Equal("service_healthy", ComposeDocument.Get(headscale, "depends_on", "postgres", "condition"));
        Assert.Contains("/health", ComposeDocument.Get(headscale, "healthcheck", "test"), StringComparison.Ordinal);
        var ports = ComposeDocument.Ports(headscale).ToArray();
        Assert.Contains("127.0.0.1:9090:9090", ports);
        Assert.Contains("50443:50443", ports);
        Assert.DoesNotContain(ports, p => p.EndsWith(":9090", StringComparison.Ordinal) && !p.StartsWith("127.0.0.1:", StringComparison.Ordinal));
        var targets = ComposeDocument.VolumeMounts(headscale).Select(m => m.Target).ToArray();
        Assert.Contains("/etc/headscale/config.yaml", targets);
        Assert.Contains("/etc/headscale/policy.json", targets);
        Assert.Contains("/var/lib/headscale", targets);
    }

    [Fact]
    public void Nginx_publishes_80_and_443_runs_the_production_config_and_logs_to_logs_nginx()
    {
        var nginx = Production.Service("nginx");

        Assert.Equal(["80:80", "443:443"], ComposeDocument.Ports(nginx));
        Assert.Contains("/etc/nginx/headscale/nginx.conf", ComposeDocument.Get(nginx, "command"), StringComparison.Ordinal);
        Assert.Contains(("../logs/nginx", "/etc/nginx/logs/nginx"), ComposeDocument.VolumeMounts(nginx));
        Assert.Contains(("../nginx", "/etc/nginx/headscale"), ComposeDocument.VolumeMounts(nginx));
    }

    [Fact]
    public void Certbot_renews_every_12_hours_through_the_shared_webroot_and_reloads_nginx()
    {
        var certbot = Production.Service("certbot");
        var entrypoint = ComposeDocument.Get(certbot, "entrypoint")!;

        Assert.Contains("certbot renew --webroot -w /var/www/certbot", entrypoint, StringComparison.Ordinal);
        Assert.Contains("sleep 12h", entrypoint, StringComparison.Ordinal);
        Assert.Contains("--deploy-hook 'pkill -HUP", entrypoint, StringComparison.Ordinal);
        Assert.Equal("service:nginx", ComposeDocument.Get(certbot, "pid"));
        var webroot = ComposeDocument.VolumeMounts(certbot).Single(m => m.Target == "/var/www/certbot").Source;
        Assert.Contains(ComposeDocument.VolumeMounts(Production.Service("nginx")), m => m.Source == webroot && m.Target == "/var/www/certbot");
        Assert.Contains("root /var/www/certbot;", RepositoryFiles.Read("nginx", "nginx.conf"), StringComparison.Ordinal);
        Assert.Contains("/etc/letsencrypt/live/headscale/", RepositoryFiles.Read("nginx", "nginx.conf"), StringComparison.Ordinal);
    }

    [Fact]
    public void Images_are_pinned_to_a_version()
    {
        foreach (var (name, service) in Production.Services.Where(s => s.Key != "headscale"))
        {
            var image = ComposeDocument.Get(service, "image")!;
            var tag = image[(image.LastIndexOf(':') + 1)..];
            Assert.True(image.Contains(':') && tag != "latest" && tag.Any(char.IsDigit), $"{name}: image '{image}' is not pinned");
        }

        Assert.Equal("ghcr.io/tale/headplane:0.6.3", ComposeDocument.Get(Production.Service("headplane"), "image"));
    }

    [Fact]
    public void Headplane_reads_its_mounted_config_and_the_cookie_secret_from_the_env_file()
    {
        var headplane = Production.Service("headplane");

        Assert.Equal("true", ComposeDocument.Get(headplane, "environment", "HEADPLANE_LOAD_ENV_OVERRIDES"));
        Assert.StartsWith("${HEADPLANE_COOKIE_SECRET:?", ComposeDocument.Get(headplane, "environment", "HEADPLANE_SERVER__COOKIE_SECRET"), StringComparison.Ordinal);
        Assert.Contains(("../config/headplane/config.yaml", "/etc/headplane/config.yaml"), ComposeDocument.VolumeMounts(headplane));
        var config = LoadYaml("config", "headplane", "config.yaml");
        Assert.Equal("http://headscale:8080", ComposeDocument.Get(config, "headscale", "url"));
        Assert.Null(ComposeDocument.Get(config, "server", "cookie_secret"));
        Assert.Equal("3000", ComposeDocument.Get(config, "server", "port"));
    }

    [Fact]
    public void Development_serves_http_on_localhost_8000_with_headplane_on_3001_and_no_certbot()
    {
        var nginx = Development.Service("nginx");
        var ports = (YamlSequenceNode)nginx.Children["ports"];

        Assert.Equal("!override", ports.Tag.Value);
        Assert.Equal(["127.0.0.1:8000:8000"], ComposeDocument.Ports(nginx));
        Assert.Contains("/etc/nginx/headscale/nginx.dev.conf", ComposeDocument.Get(nginx, "command"), StringComparison.Ordinal);
        Assert.Equal(["127.0.0.1:3001:3000"], ComposeDocument.Ports(Development.Service("headplane")));
        Assert.Equal("false", ComposeDocument.Get(Development.Service("headplane"), "environment", "HEADPLANE_SERVER__COOKIE_SECURE"));
        Assert.Equal("http://localhost:8000", ComposeDocument.Get(Development.Service("headscale"), "environment", "HEADSCALE_SERVER_URL"));
        Assert.True(Development.Service("certbot").Children.ContainsKey("profiles"), "certbot must not start in development");
    }

    [Fact]
    public void Every_variable_without_a_default_is_in_the_env_example()
    {
        var example = File.ReadAllLines(RepositoryFiles.PathOf("compose", ".env.example"))
            .Where(l => l.Length > 0 && !l.StartsWith('#'))
            .Select(l => l.Split('=', 2))
            .ToDictionary(p => p[0], p => p[1]);

        foreach (var (name, hasDefault) in Production.Interpolations().Concat(Development.Interpolations()))
        {
            Assert.True(hasDefault || example.ContainsKey(name), $"${{{name}}} has no default and is missing from compose/.env.example");
        }

        Assert.Equal(32, example["HEADPLANE_COOKIE_SECRET"].Length);
    }

    [Fact]
    public void The_server_trusts_forwarded_headers_only_from_nginx_fixed_address()
    {
        var address = IPAddress.Parse(ComposeDocument.Get(Production.Service("nginx"), "networks", "headscale-network", "ipv4_address")!);
        var ipam = (YamlSequenceNode)ComposeDocument.Node(Production.Root, "networks", "headscale-network", "ipam", "config")!;
        var subnet = IPNetwork.Parse(ComposeDocument.Get((YamlMappingNode)ipam.Children.Single(), "subnet")!);
        var trusted = ((YamlSequenceNode)LoadYaml("config", "config.yaml").Children["trusted_proxies"]).Children.Select(ComposeDocument.Scalar).Select(IPNetwork.Parse).ToArray();

        Assert.True(subnet.Contains(address), $"nginx's {address} lies outside {subnet}");
        Assert.Equal([IPNetwork.Parse($"{address}/32")], trusted);
    }

    private static YamlMappingNode LoadYaml(params string[] path)
    {
        var stream = new YamlStream();
        using var reader = new StringReader(RepositoryFiles.Read(path));
        stream.Load(reader);
        return (YamlMappingNode)stream.Documents[0].RootNode;
    }
}
