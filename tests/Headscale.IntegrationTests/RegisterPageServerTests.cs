using System.Net;
using Headscale.Actors.Addressing;
using Headscale.Api.Configuration;
using Headscale.Api.Hosting;
using Headscale.IntegrationTests.Support;

namespace Headscale.IntegrationTests;

/// <summary>The real server process serves the register page from its node lifecycle actors.</summary>
public sealed class RegisterPageServerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_server_answers_register_pages_for_unknown_and_malformed_ids()
    {
        using var config = new TestServerConfig();
        await using var server = await ServerProcess.StartAsync(config, Ct);

        using var unknown = await server.Http.GetAsync("/register/AAAAAAAAAAAAAAAAAAAAAAAA", Ct);
        using var malformed = await server.Http.GetAsync("/register/a%20b", Ct);

        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("Registration not found", await unknown.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
    }

    [Fact]
    public void Config_yaml_settings_reach_the_node_lifecycle()
    {
        var config = new HeadscaleConfig
        {
            ServerUrl = new Uri("https://hs.example.com"),
            ListenAddress = new ListenAddress(IPAddress.Loopback, 8080),
            GrpcListenAddress = new ListenAddress(IPAddress.Loopback, 50443),
            NoisePrivateKeyPath = "noise",
            UnixSocket = "sock",
            Prefixes = new PrefixesConfig(IPNetwork.Parse("100.64.0.0/16"), null, IpAllocationStrategy.Random),
            Database = new Headscale.Actors.Persistence.DatabaseSettings { Kind = Headscale.Actors.Persistence.DatabaseKind.Sqlite },
            Derp = new DerpConfig(),
            Node = new NodeConfig { Expiry = TimeSpan.FromDays(30), EphemeralInactivityTimeout = TimeSpan.FromMinutes(30) },
            Policy = new PolicyConfig(PolicyMode.File, null),
            Dns = new DnsConfig(),
            Log = new LogConfig(Microsoft.Extensions.Logging.LogLevel.Information, false),
            Cli = new CliConfig(),
            Tuning = new TuningConfig { RegisterCacheExpiration = TimeSpan.FromMinutes(5) },
            Cluster = new Headscale.Actors.Hosting.ClusterSettings(),
        };

        var domain = ServerHost.DomainSettingsFrom(config);

        Assert.Equal(new Uri("https://hs.example.com"), domain.ServerUrl);
        Assert.Equal(new AddressingSettings(IPNetwork.Parse("100.64.0.0/16"), null, AllocationStrategy.Random), domain.Addressing);
        Assert.Equal(TimeSpan.FromDays(30), domain.NodeExpiry);
        Assert.Equal(TimeSpan.FromMinutes(30), domain.EphemeralInactivityTimeout);
        Assert.Equal(TimeSpan.FromMinutes(5), domain.RegisterCacheExpiration);
    }
}
