using System.Collections.Concurrent;
using System.Net;
using System.Net.NetworkInformation;
using System.Threading.Channels;
using Headscale.Api.ControlProtocol;
using Headscale.Protocol.Client;
using Headscale.Protocol.Keys;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Headscale.Api.Tests.ControlProtocol;

/// <summary>A real Kestrel on a loopback port with the ts2021 transport wired as the composition root will wire it.</summary>
public sealed class Ts2021TestServer : IAsyncDisposable
{
    public const int ConcurrentStreams = 1000;

    private readonly WebApplication _app;

    private Ts2021TestServer(WebApplication app, MachinePrivateKey key, Uri url, CapturingLoggerProvider logs)
    {
        _app = app;
        Logs = logs;
        NoiseKey = key;
        Url = url;
    }

    public MachinePrivateKey NoiseKey { get; }

    public Uri Url { get; }

    public int Port => Url.Port;

    public Ts2021Statistics Statistics => _app.Services.GetRequiredService<Ts2021Statistics>();

    public CapturingLoggerProvider Logs { get; }

    /// <summary>Pieces the /machine/trickle endpoint writes, one per item, as the test releases them.</summary>
    public Channel<string> TricklePieces { get; } = Channel.CreateUnbounded<string>();

    public ConcurrentBag<string> GatheredStreams { get; } = [];

    /// <summary>Requests for <c>/ts2021</c> that reached the request pipeline (upgrades the HTTP/1.1 server served).</summary>
    public int UpgradeRequestsInPipeline => Volatile.Read(ref _upgradeRequestsInPipeline);

    private int _upgradeRequestsInPipeline;

    /// <summary>
    /// Starts the server; <paramref name="upgradesFromConnection"/> wires the listener as the composition root does (plain
    /// upgrades taken off the connection), false leaves every upgrade to the HTTP/1.1 server.
    /// </summary>
    public static async Task<Ts2021TestServer> StartAsync(
        TimeSpan? handshakeTimeout = null,
        TimeSpan? idleTimeout = null,
        bool upgradesFromConnection = true,
        TimeSpan? requestHeadersTimeout = null,
        Action<Microsoft.AspNetCore.Builder.ForwardedHeadersOptions>? forwardedHeaders = null)
    {
        var key = MachinePrivateKey.Generate();
        var logs = new CapturingLoggerProvider();
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.AddProvider(logs);
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Services.AddSingleton(key);
        builder.Services.AddTs2021Transport(options =>
        {
            options.HandshakeTimeout = handshakeTimeout ?? TimeSpan.FromSeconds(10);
            options.IdleTimeout = idleTimeout ?? options.IdleTimeout;
        });
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Limits.RequestHeadersTimeout = requestHeadersTimeout ?? kestrel.Limits.RequestHeadersTimeout;
            kestrel.Listen(IPAddress.Loopback, 0, listen =>
            {
                if (upgradesFromConnection)
                {
                    listen.UseTs2021Upgrades();
                }
            });
        });
        if (forwardedHeaders is not null)
        {
            builder.Services.Configure(forwardedHeaders);
        }

        var app = builder.Build();
        Ts2021TestServer? server = null;
        if (forwardedHeaders is not null)
        {
            app.UseForwardedHeaders();
        }

        app.Use((context, next) =>
        {
            if (context.Request.Path == "/ts2021")
            {
                Interlocked.Increment(ref server!._upgradeRequestsInPipeline);
            }

            return next(context);
        });
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        app.MapTs2021();
        app.MapGet("/key", () => Results.Json(new Dictionary<string, string>
        {
            ["legacyPublicKey"] = default(MachinePublicKey).ToString(),
            ["publicKey"] = key.PublicKey.ToString(),
        }));
        app.MapGet("/public", () => "public");
        app.MapGet("/machine/whoami", (HttpContext context) =>
        {
            var control = context.GetControlConnection()!;
            return $"{control.MachineKey} {control.ProtocolVersion} {control.NodeKeyChallenge} {context.Request.Protocol}";
        });
        app.MapGet("/machine/remote", (HttpContext context) => $"{context.Connection.RemoteIpAddress}:{context.Connection.RemotePort}");
        app.MapPost("/machine/upload", async (HttpContext context) =>
        {
            var total = 0L;
            var buffer = new byte[16384];
            int read;
            while ((read = await context.Request.Body.ReadAsync(buffer, context.RequestAborted)) > 0)
            {
                total += read;
            }

            return Results.Text(total.ToString(System.Globalization.CultureInfo.InvariantCulture));
        });
        app.MapGet("/machine/big", async (HttpContext context, int size) =>
        {
            context.Response.ContentType = "application/octet-stream";
            var chunk = new byte[64 * 1024];
            for (var offset = 0; offset < size; offset += chunk.Length)
            {
                var count = Math.Min(chunk.Length, size - offset);
                for (var i = 0; i < count; i++)
                {
                    chunk[i] = Pattern(offset + i);
                }

                await context.Response.Body.WriteAsync(chunk.AsMemory(0, count), context.RequestAborted);
            }
        });
        app.MapGet("/machine/trickle", async (HttpContext context) =>
        {
            await context.Response.StartAsync(context.RequestAborted);
            // Kestrel's HTTP/2 StartAsync queues the headers without flushing them.
            await context.Response.Body.FlushAsync(context.RequestAborted);
            await foreach (var piece in server!.TricklePieces.Reader.ReadAllAsync(context.RequestAborted))
            {
                await context.Response.WriteAsync(piece, context.RequestAborted);
                await context.Response.Body.FlushAsync(context.RequestAborted);
            }
        });
        app.MapPost("/machine/gather", async (HttpContext context) =>
        {
            // Answers only once every stream is open at the same time: proves they are concurrent, not queued.
            server!.GatheredStreams.Add(context.TraceIdentifier);
            if (server.GatheredStreams.Count >= ConcurrentStreams)
            {
                gate.TrySetResult();
            }

            await gate.Task.WaitAsync(context.RequestAborted);
            return context.Features.Get<Microsoft.AspNetCore.Connections.Features.IConnectionIdFeature>()?.ConnectionId ?? "?";
        });

        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses
            .First(a => a.StartsWith("http://127.0.0.1:", StringComparison.Ordinal));
        server = new Ts2021TestServer(app, key, new Uri(address), logs);
        return server;
    }

    public static byte Pattern(int index) => (byte)((index * 31) ^ (index >> 8));

    public Ts2021Client CreateClient(
        ushort protocolVersion = 142, bool webSocket = false, System.Buffers.MemoryPool<byte>? bufferPool = null, IReadOnlyList<string>? extraUpgradeHeaders = null) => new(new Ts2021ClientOptions
    {
        UseWebSocket = webSocket,
        ExtraUpgradeHeaders = extraUpgradeHeaders ?? [],
        BufferPool = bufferPool,
        ServerUrl = Url,
        MachineKey = MachinePrivateKey.Generate(),
        ServerKey = NoiseKey.PublicKey,
        ProtocolVersion = protocolVersion,
    });

    /// <summary>Established TCP connections whose server end is this server's port, as the operating system counts them.</summary>
    public int EstablishedTcpConnections() => IPGlobalProperties.GetIPGlobalProperties().GetActiveTcpConnections()
        .Count(c => c.LocalEndPoint.Port == Port && c.State == TcpState.Established);

    /// <summary>Waits until the server holds no upgraded connection and no established socket.</summary>
    public async Task AssertNoConnectionsLeftAsync()
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        while (Statistics.ActiveConnections != 0 || EstablishedTcpConnections() != 0)
        {
            if (timeout.IsCancellationRequested)
            {
                Assert.Fail($"connections left: {Statistics.ActiveConnections} upgraded, {EstablishedTcpConnections()} TCP established");
            }

            await Task.Delay(20, CancellationToken.None);
        }
    }

    /// <summary>Stops the host as SIGTERM would, leaving the trickle endpoint's pieces open.</summary>
    public Task StopAsync() => _app.StopAsync(CancellationToken.None);

    public async ValueTask DisposeAsync()
    {
        TricklePieces.Writer.TryComplete();
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }
}
