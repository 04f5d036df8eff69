using Headscale.Derp.Map;
using Headscale.Derp.Mesh;
using Headscale.Derp.Server;
using Headscale.Derp.Stun;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace Headscale.Derp.Hosting;

/// <summary>Composition entry points the API host calls: <c>services.AddDerpServer(...)</c> and <c>endpoints.MapDerp()</c>.</summary>
public static class DerpHostingExtensions
{
    /// <summary>
    /// Registers the DERP server, the STUN listener (when <see cref="DerpServerOptions.StunListenAddr"/> is set) and the mesh
    /// clients (when <see cref="DerpServerOptions.MeshWith"/> is not empty). With <see cref="DerpServerOptions.VerifyClients"/>
    /// on, an <see cref="IDerpClientVerifier"/> must be registered too (the actor layer's implementation).
    /// </summary>
    public static IServiceCollection AddDerpServer(this IServiceCollection services, Action<DerpServerOptions> configure)
    {
        var options = new DerpServerOptions();
        configure(options);
        if (options.PerClientSendQueueDepth < 1) throw new ArgumentException("derp per-client send queue depth must be at least 1.");
        options.ParseMeshKey();
        if (options.MeshWith.Count > 0 && options.MeshKey is null)
            throw new ArgumentException("derp mesh_with needs a mesh key.");
        services.AddSingleton(options);
        services.TryAddSingleton(sp => new DerpServer(options,
            options.VerifyClients
                ? sp.GetService<IDerpClientVerifier>() ?? throw new InvalidOperationException(
                    "derp.server.verify_clients is true but no IDerpClientVerifier is registered.")
                : null,
            sp.GetService<ILogger<DerpServer>>()));
        services.TryAddSingleton(sp => new DerpBootstrapDns(
            () => DerpBootstrapDns.HostNamesOf(sp.GetService<DerpMapProvider>()?.Current), clock: sp.GetService<TimeProvider>()));
        // Resolve the server at start so a missing verifier or bad key fails the host, not the first client.
        services.AddHostedService(sp => new DerpServerStartup(sp.GetRequiredService<DerpServer>(),
            sp.GetRequiredService<Microsoft.Extensions.Hosting.IHostApplicationLifetime>()));
        if (!string.IsNullOrWhiteSpace(options.StunListenAddr))
        {
            var endPoint = StunServer.ParseListenAddress(options.StunListenAddr);
            services.AddHostedService(sp => new StunHostedService(endPoint, sp.GetService<ILogger<StunServer>>()));
        }
        if (options.MeshWith.Count > 0)
            services.AddHostedService(sp => new DerpMeshService(sp.GetRequiredService<DerpServer>(), options.MeshWith,
                sp.GetService<ILogger<DerpMeshService>>()));
        return services;
    }

    /// <summary>
    /// Registers <see cref="DerpMapProvider"/>: the embedded region plus maps from <c>derp.urls</c> and <c>derp.paths</c>,
    /// refreshed every <c>derp.update_frequency</c>. Read the merged map from <see cref="DerpMapProvider.Current"/>.
    /// </summary>
    public static IServiceCollection AddDerpMap(this IServiceCollection services, Action<DerpMapOptions> configure)
    {
        var options = new DerpMapOptions();
        configure(options);
        options.Validate();
        services.AddSingleton(options);
        services.AddHttpClient(DerpMapProvider.HttpClientName);
        services.TryAddSingleton<DerpMapProvider>();
        services.AddHostedService(sp => sp.GetRequiredService<DerpMapProvider>());
        return services;
    }

    /// <summary>
    /// Maps <c>/derp</c> (upgrade and WebSocket), <c>/derp/probe</c>, <c>/derp/latency-check</c>, <c>/generate_204</c> and
    /// <c>/bootstrap-dns</c>.
    /// The WebSocket middleware is added to the /derp endpoint itself, so the host does not need <c>UseWebSockets</c>.
    /// </summary>
    public static IEndpointConventionBuilder MapDerp(this IEndpointRouteBuilder endpoints)
    {
        var derpPipeline = endpoints.CreateApplicationBuilder()
            .UseWebSockets()
            .Use(_ => DerpHttpHandler.HandleDerpAsync)
            .Build();
        var group = endpoints.MapGroup("");
        group.Map("/derp", derpPipeline).WithDisplayName("DERP");
        group.Map("/derp/probe", DerpHttpHandler.HandleProbeAsync).WithDisplayName("DERP probe");
        group.Map("/derp/latency-check", DerpHttpHandler.HandleProbeAsync).WithDisplayName("DERP latency check");
        group.Map("/generate_204", DerpHttpHandler.HandleGenerate204).WithDisplayName("Captive portal check");
        group.Map("/bootstrap-dns", DerpBootstrapDns.HandleAsync).WithDisplayName("DERP bootstrap DNS");
        return group;
    }

    /// <summary>
    /// Closes every DERP connection as soon as the host starts stopping: Kestrel's graceful shutdown waits for open
    /// (upgraded) requests, and DERP clients and mesh peers never end theirs, so without this every stop took the full
    /// shutdown timeout.
    /// </summary>
    private sealed class DerpServerStartup(DerpServer server, Microsoft.Extensions.Hosting.IHostApplicationLifetime lifetime)
        : Microsoft.Extensions.Hosting.IHostedService
    {
        private CancellationTokenRegistration _stopping;

        public Task StartAsync(CancellationToken cancellationToken)
        {
            _stopping = lifetime.ApplicationStopping.Register(static s => ((DerpServer)s!).CloseAllConnections("server stopping"), server);
            return Task.CompletedTask;
        }

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            await _stopping.DisposeAsync();
            await server.DisposeAsync();
        }
    }
}
