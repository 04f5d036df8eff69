using Headscale.Actors.Addressing;
using Headscale.Actors.Auditing;
using Headscale.Actors.Hosting;
using Headscale.Actors.Persistence;
using Headscale.Api.Configuration;
using Headscale.Api.ControlPlane;
using Headscale.Api.ControlProtocol;
using Headscale.Api.Endpoints;
using Headscale.Api.Management;
using Headscale.Api.Management.Backends;
using Headscale.Api.Observability;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Prometheus;

namespace Headscale.Api.Hosting;

/// <summary>The composition root of <c>headscale serve</c>: listeners, services and endpoints.</summary>
public static class ServerHost
{
    /// <summary>How long a stop (SIGTERM) may take: Kestrel drains, the member leaves, the journal flushes.</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(30);

    public static WebApplication Build(HeadscaleConfig config, NoiseKey noiseKey)
    {
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions
        {
            ApplicationName = typeof(ServerHost).Assembly.GetName().Name,
            ContentRootPath = AppContext.BaseDirectory,
        });

        ConfigureLogging(builder.Logging, config.Log);
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = ShutdownTimeout);
        builder.Services.AddRoutingCore();
        builder.Services.AddSingleton(config);
        builder.Services.AddSingleton(noiseKey);
        builder.Services.AddSingleton(new Headscale.Protocol.Keys.MachinePrivateKey(noiseKey.File.PrivateKey));
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddHeadscaleActors(new HeadscaleActorsOptions
        {
            Database = config.Database,
            Cluster = config.Cluster,
            Domain = DomainSettingsFrom(config),
            NetworkMap = NetworkMapOptionsFrom(config),
        });

        builder.Services.AddHeadscaleManagementApi();
        builder.Services.AddManagementBackends();
        builder.Services.AddHeadscaleAuditRecorder();
        if (config.MetricsListenAddress is not null)
        {
            builder.Services.AddHeadscaleMetrics();
        }

        DerpRelay.DerpWiring.AddDerpFromConfig(builder.Services, config);
        if (config.Dns.ExtraRecordsPath is not null)
        {
            builder.Services.AddSingleton<ControlPlane.ExtraRecordsWatcher>();
            builder.Services.AddHostedService(services => services.GetRequiredService<ControlPlane.ExtraRecordsWatcher>());
        }

        builder.Services.AddHostedService<ControlPlane.MapSettingsRefresher>();
        builder.Services.AddHostedService<SighupPolicyReload>();

        builder.WebHost.UseKestrelCore().ConfigureKestrel(kestrel => ConfigureListeners(kestrel, config));
        // After Kestrel's registration, so the socket transport takes this one (decision 0908).
        builder.Services.AddSingleton(services => new TrimmingMemoryPoolFactory(
            services.GetRequiredService<TimeProvider>(), TrimmingMemoryPoolFactory.DefaultTrimInterval));
        builder.Services.AddSingleton<Microsoft.AspNetCore.Connections.IMemoryPoolFactory<byte>>(
            services => services.GetRequiredService<TrimmingMemoryPoolFactory>());
        if (config.Tuning.MemoryReclaim)
        {
            builder.Services.AddHostedService<MemoryReclaimer>();
        }
        builder.Services.AddSingleton(new MapSessionOptions(
            config.Tuning.NodeMapSessionBufferedChannelSize,
            config.Tuning.MapKeepAliveInterval is { } keepAlive ? () => keepAlive : Headscale.Actors.NetworkMap.MapSessionActor.DefaultKeepAliveInterval));
        // After Kestrel: the transport wraps the registered server to run inner requests through the same pipeline.
        builder.Services.AddTs2021Transport();

        builder.Services.Configure<Microsoft.AspNetCore.Builder.ForwardedHeadersOptions>(options =>
        {
            // X-Forwarded-* are believed only from the configured proxies (trusted_proxies); by
            // default from nobody, not even loopback.
            options.ForwardedHeaders = Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedFor
                | Microsoft.AspNetCore.HttpOverrides.ForwardedHeaders.XForwardedProto;
            options.KnownProxies.Clear();
            options.KnownIPNetworks.Clear();
            foreach (var network in config.TrustedProxies)
            {
                options.KnownIPNetworks.Add(network);
            }

            options.ForwardLimit = 1;
        });

        var app = builder.Build();
        app.UseForwardedHeaders();
        app.UseRouting();
        app.UseMiddleware<Observability.RequestLoggingMiddleware>();
        app.Use(RejectWrongListener);
        app.MapHeadscaleManagementApi();
        app.MapServerInfoEndpoints();
        if (config.Derp.ServerEnabled)
        {
            Headscale.Derp.Hosting.DerpHostingExtensions.MapDerp(app);
        }
        app.MapRegisterPage();
        app.MapTs2021();
        app.MapMachineRegister();
        app.MapMachineMap(static context => context.GetControlConnection()?.MachineKey.ToString());
        if (config.MetricsListenAddress is not null)
        {
            app.StartHeadscaleMetrics();
            app.MapMetrics().WithMetadata(new ServedOnAttribute(ListenerKind.Metrics));
        }

        return app;
    }

    /// <summary>The node lifecycle's settings from config.yaml (prefixes, expiry, ephemeral timeout, register cache).</summary>
    public static DomainSettings DomainSettingsFrom(HeadscaleConfig config) => new()
    {
        ServerUrl = config.ServerUrl,
        Addressing = new AddressingSettings(
            config.Prefixes.V4,
            config.Prefixes.V6,
            config.Prefixes.Allocation == IpAllocationStrategy.Random ? AllocationStrategy.Random : AllocationStrategy.Sequential),
        NodeExpiry = config.Node.Expiry,
        EphemeralInactivityTimeout = config.Node.EphemeralInactivityTimeout,
        RegisterCacheExpiration = config.Tuning.RegisterCacheExpiration,
    };

    /// <summary>
    /// What the network map sends besides the nodes: the DNS config and the DERP map (re-encoded only
    /// when the provider replaced it), and where the policy comes from.
    /// </summary>
    public static NetworkMapOptions NetworkMapOptionsFrom(HeadscaleConfig config)
    {
        Headscale.Derp.Map.DerpMap? encodedDerp = null;
        var encodedRecords = config.Dns.ExtraRecords;
        Headscale.Actors.NetworkMap.MapSettings? settings = null;
        return new NetworkMapOptions
        {
            FlushWindow = config.Tuning.MapCoalesceWindow,
            // Called by the network map actor only (one thread at a time); rebuilt only when an input changed.
            Settings = services =>
            {
                var derp = services.GetService<Headscale.Derp.Map.DerpMapProvider>()?.Current;
                var records = services.GetService<ControlPlane.ExtraRecordsWatcher>()?.Current ?? config.Dns.ExtraRecords;
                if (settings is null || !ReferenceEquals(derp, encodedDerp) || records != encodedRecords)
                {
                    var derpJson = ReferenceEquals(derp, encodedDerp) && settings is not null
                        ? settings.DerpMap
                        : derp is null ? "{}"u8.ToArray() : Headscale.Derp.Map.DerpMapLoader.ToJson(derp);
                    var dns = records == encodedRecords && settings is not null
                        ? settings.Dns
                        : ControlPlane.DnsConfigBuilder.Build(config.Dns, config.Prefixes, records);
                    encodedDerp = derp;
                    encodedRecords = records;
                    settings = new Headscale.Actors.NetworkMap.MapSettings(config.Dns.BaseDomain, derpJson, dns, DisableLogTail: !config.LogtailEnabled);
                }

                return settings;
            },
            PolicySource = config.Policy.Mode == PolicyMode.Database
                ? Headscale.Actors.NetworkMap.NetworkMapPolicySource.Database
                : string.IsNullOrEmpty(config.Policy.Path) ? Headscale.Actors.NetworkMap.NetworkMapPolicySource.None : Headscale.Actors.NetworkMap.NetworkMapPolicySource.File,
            PolicyPath = config.Policy.Path,
        };
    }

    /// <summary>Prepares the journal database before the actor system starts (SQLite directory and WAL).</summary>
    public static Task PrepareAsync(WebApplication app, CancellationToken cancellationToken) =>
        app.Services.GetRequiredService<JournalDatabase>().PrepareAsync(cancellationToken);

    /// <summary>One line per listener once they are bound, so operators (and tests) see what is open.</summary>
    public static void LogStarted(WebApplication app)
    {
        var config = app.Services.GetRequiredService<HeadscaleConfig>();
        if (!OperatingSystem.IsWindows())
        {
            ManagementKestrelExtensions.ApplyUnixSocketPermission(config.UnixSocket, (UnixFileMode)config.UnixSocketPermission);
        }

        var log = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Headscale.Server");
        log.LogInformation("headscale {Version} serving {ServerUrl} on {ListenAddress}; metrics on {MetricsAddress}; database {Database}; config {ConfigFile}",
            BuildInfo.ProductVersion,
            config.ServerUrl,
            config.ListenAddress,
            config.MetricsListenAddress?.ToString() ?? "(disabled)",
            config.Database.Describe(),
            config.FilePath ?? "(none: defaults)");
    }

    private static void ConfigureListeners(KestrelServerOptions kestrel, HeadscaleConfig config)
    {
        kestrel.AddServerHeader = false;
        kestrel.Listen(config.ListenAddress.EndPoint, listen =>
        {
            listen.Protocols = HttpProtocols.Http1;
            // Not marked: an unmarked connection is the main listener's, and a mark is a feature entry that each of
            // thousands of control connections would keep for as long as it is open.
            listen.UseTs2021Upgrades();
        });

        var certificate = config.TlsCertPath.Length > 0
            ? System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(config.TlsCertPath, config.TlsKeyPath)
            : null;
        kestrel.ListenManagementGrpc(config.GrpcListenAddress.EndPoint, certificate, config.GrpcAllowInsecure);
        kestrel.ListenManagementUnixSocket(config.UnixSocket);

        if (config.MetricsListenAddress is { } metrics)
        {
            kestrel.Listen(metrics.EndPoint, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                listen.Use(MarkListener(ListenerKind.Metrics));
            });
        }
    }

    private static Func<Microsoft.AspNetCore.Connections.ConnectionDelegate, Microsoft.AspNetCore.Connections.ConnectionDelegate> MarkListener(ListenerKind kind)
    {
        var feature = new ListenerFeature(kind);
        return next => connection =>
        {
            connection.Features.Set(feature);
            return next(connection);
        };
    }

    /// <summary>
    /// Endpoints are tied to one listener: metrics never answer on the public port and the public
    /// endpoints never answer on the metrics port. Anything else is a plain 404.
    /// </summary>
    private static Task RejectWrongListener(HttpContext context, RequestDelegate next)
    {
        var listener = context.Features.Get<ListenerFeature>()?.Kind ?? ListenerKind.Main;
        var servedOn = context.GetEndpoint()?.Metadata.GetMetadata<ServedOnAttribute>()?.Kind ?? ListenerKind.Main;
        if (listener != servedOn)
        {
            context.SetEndpoint(null);
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        return next(context);
    }

    internal static void ConfigureLogging(ILoggingBuilder logging, LogConfig log)
    {
        logging.ClearProviders();
        logging.SetMinimumLevel(log.Level);
        // Kestrel and routing chatter at Information is noise for operators.
        logging.AddFilter("Microsoft.AspNetCore", log.Level > LogLevel.Warning ? log.Level : LogLevel.Warning);
        logging.AddFilter("Microsoft.Hosting.Lifetime", log.Level);
        // Hosting's own request start/finish lines repeat ours (RequestLoggingMiddleware). While its logger is enabled
        // at any level, every request also gets an Activity and a log scope that live as long as the request does: two
        // per node for hours (the ts2021 connection and its map stream).
        logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.None);
        // Singleton managers and proxies report every hand-over step at Information; membership changes
        // (Akka.Cluster) stay visible.
        logging.AddFilter("Akka.Cluster.Tools.Singleton", log.Level > LogLevel.Warning ? log.Level : LogLevel.Warning);
        if (log.Json)
        {
            logging.AddJsonConsole(o => o.TimestampFormat = "O");
        }
        else
        {
            logging.AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fffZ ";
                o.UseUtcTimestamp = true;
            });
        }
    }
}
