using System.Text;
using Headscale.Actors.NetworkMap;
using Headscale.Api.Configuration;
using Headscale.Api.Hosting;
using Headscale.Derp.Map;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Headscale.Api.Tests.Management;

/// <summary>What the server hands the network map: DNS config and DERP map from config.yaml and the DERP provider, and the policy source.</summary>
public sealed class NetworkMapOptionsTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("hs-mapopts-").FullName;

    [Fact]
    public async Task Map_settings_carry_dns_and_the_current_derp_map_and_follow_a_refreshed_one()
    {
        var config = Bind("""
            server_url: https://hs.example.org
            dns:
              base_domain: tail.example.com
              magic_dns: true
            policy:
              mode: database
            """);
        var options = ServerHost.NetworkMapOptionsFrom(config);
        var provider = new DerpMapProvider(new DerpMapOptions
        {
            EmbeddedRegion = new DerpEmbeddedRegionOptions { RegionId = 901, ServerUrl = "https://hs.example.org", StunListenAddr = "0.0.0.0:3478" },
        });
        using var services = new ServiceCollection().AddSingleton(provider).BuildServiceProvider();

        var before = options.Settings!(services);
        Assert.Same(before, options.Settings(services));
        await provider.RefreshAsync(TestContext.Current.CancellationToken);
        var after = options.Settings(services);

        Assert.Equal(NetworkMapPolicySource.Database, options.PolicySource);
        Assert.Equal("tail.example.com", after.BaseDomain);
        Assert.True(after.Dns.Proxied);
        Assert.Contains("tail.example.com", after.Dns.Domains!);
        Assert.DoesNotContain("901", Encoding.UTF8.GetString(before.DerpMap.Span));
        Assert.Contains("\"901\"", Encoding.UTF8.GetString(after.DerpMap.Span));
    }

    [Fact]
    public void File_mode_without_a_path_means_no_policy_and_no_derp_provider_means_an_empty_derp_map()
    {
        var options = ServerHost.NetworkMapOptionsFrom(Bind("server_url: https://hs.example.org\n"));
        using var services = new ServiceCollection().BuildServiceProvider();

        Assert.Equal(NetworkMapPolicySource.None, options.PolicySource);
        Assert.Equal("{}", Encoding.UTF8.GetString(options.Settings!(services).DerpMap.Span));
    }

    private HeadscaleConfig Bind(string yaml)
    {
        var path = Path.Combine(_directory, "config.yaml");
        File.WriteAllText(path, yaml);
        var (config, problems) = ConfigBinder.Bind(ConfigLoader.Load(path, new Dictionary<string, string>(), _directory));
        Assert.Empty(problems);
        return config!;
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
