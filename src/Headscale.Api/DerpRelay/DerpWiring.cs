using Headscale.Api.Configuration;
using Headscale.Derp.Hosting;
using Headscale.Derp.Server;

namespace Headscale.Api.DerpRelay;

/// <summary>The embedded DERP relay and the DERP map, configured from <c>derp.*</c>.</summary>
public static class DerpWiring
{
    public static IServiceCollection AddDerpFromConfig(this IServiceCollection services, HeadscaleConfig config)
    {
        var derp = config.Derp;
        if (derp.ServerEnabled)
        {
            services.AddSingleton<NodeRegistryDerpVerifier>();
            services.AddSingleton<IDerpClientVerifier>(sp => sp.GetRequiredService<NodeRegistryDerpVerifier>());
            services.AddDerpServer(o =>
            {
                o.Enabled = true;
                o.PrivateKeyPath = derp.PrivateKeyPath;
                o.VerifyClients = derp.VerifyClients;
                o.StunListenAddr = derp.StunListenAddress?.ToString();
                o.MeshKey = derp.MeshKey is { } meshKey ? Convert.ToHexStringLower(meshKey) : null;
                o.MeshWith = [.. derp.MeshWith.Select(u => u.ToString())];
            });
            if (derp.VerifyClients)
            {
                // After AddDerpServer: hosted services start in order, and this one needs the server and the actor system.
                services.AddHostedService<DerpRevocationService>();
            }
        }

        if (!derp.ServerEnabled && derp.Urls.IsEmpty && derp.Paths.IsEmpty)
        {
            // No relay configured: clients get no DERP map (direct connections only), as with an empty Headscale config.
            return services;
        }

        services.AddDerpMap(o =>
        {
            o.Urls = [.. derp.Urls.Select(u => u.ToString())];
            o.Paths = [.. derp.Paths];
            o.AutoUpdateEnabled = derp.AutoUpdate;
            o.UpdateFrequency = derp.UpdateFrequency;
            o.EmbeddedRegion = derp.ServerEnabled
                ? new Headscale.Derp.Map.DerpEmbeddedRegionOptions
                {
                    RegionId = derp.RegionId,
                    RegionCode = derp.RegionCode,
                    RegionName = derp.RegionName,
                    AutomaticallyAddEmbeddedRegion = derp.AutomaticallyAddEmbeddedRegion,
                    ServerUrl = config.ServerUrl.ToString(),
                    StunListenAddr = derp.StunListenAddress?.ToString(),
                    IPv4 = derp.Ipv4?.ToString(),
                    IPv6 = derp.Ipv6?.ToString(),
                }
                : null;
        });
        return services;
    }
}
