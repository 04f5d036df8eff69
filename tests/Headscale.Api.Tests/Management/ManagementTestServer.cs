using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Headscale.Api.Management;
using Headscale.Api.Management.ApiKeys;
using Headscale.Management.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Headscale.Api.Tests.Management;

/// <summary>
/// A real Kestrel host with the management API as the composition root will wire it: REST on an
/// HTTP/1.1 port, gRPC (h2c, grpc_allow_insecure) on a second port, gRPC on a unix socket.
/// All ports are 0, so parallel test classes never collide.
/// </summary>
internal sealed class ManagementTestServer : IAsyncDisposable
{
    public static readonly DateTimeOffset Now = new(2026, 1, 10, 12, 0, 0, TimeSpan.Zero);

    private readonly WebApplication _app;
    private readonly string _socketDirectory;
    private readonly List<IDisposable> _clients = [];

    private ManagementTestServer(
        WebApplication app, InMemoryApiKeyStore keys, ManualTimeProvider clock, string socketDirectory, int restPort, int grpcPort, string socketPath)
    {
        _app = app;
        Keys = keys;
        Clock = clock;
        _socketDirectory = socketDirectory;
        RestBase = new Uri($"http://127.0.0.1:{restPort}");
        GrpcBase = new Uri($"http://127.0.0.1:{grpcPort}");
        SocketPath = socketPath;
    }

    public Uri RestBase { get; }
    public Uri GrpcBase { get; }
    public string SocketPath { get; }
    public InMemoryApiKeyStore Keys { get; }
    public ManualTimeProvider Clock { get; }

    /// <summary>Starts a server; <paramref name="facades"/> null keeps the Unimplemented placeholders.</summary>
    /// <param name="configure">Extra registrations after the facades (e.g. a real backend over a fake store).</param>
    public static async Task<ManagementTestServer> StartAsync(FakeManagement? facades, CancellationToken cancellationToken, Action<IServiceCollection>? configure = null)
    {
        var socketDirectory = Directory.CreateTempSubdirectory("hs-mgmt-").FullName;
        var socketPath = Path.Combine(socketDirectory, "headscale.sock");
        ListenOptions? rest = null;
        ListenOptions? grpc = null;

        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(kestrel =>
        {
            kestrel.Listen(IPAddress.Loopback, 0, listen =>
            {
                listen.Protocols = HttpProtocols.Http1;
                rest = listen;
            });
            grpc = kestrel.ListenManagementGrpc(new IPEndPoint(IPAddress.Loopback, 0), certificate: null, allowInsecure: true);
            kestrel.ListenManagementUnixSocket(socketPath);
        });

        var keys = new InMemoryApiKeyStore();
        var clock = new ManualTimeProvider(Now);
        builder.Services.AddSingleton<IApiKeyStore>(keys);
        builder.Services.AddSingleton<TimeProvider>(clock);
        builder.Services.AddHeadscaleManagementApi();
        if (facades is not null)
        {
            // Registered after AddHeadscaleManagementApi, as the domain layer may do: must win.
            builder.Services.AddSingleton<IUserManagement>(facades);
            builder.Services.AddSingleton<INodeManagement>(facades);
            builder.Services.AddSingleton<IPreAuthKeyManagement>(facades);
            builder.Services.AddSingleton<IPolicyManagement>(facades);
            builder.Services.AddSingleton<IHealthManagement>(facades);
            builder.Services.AddSingleton<IAuditManagement>(facades);
        }

        configure?.Invoke(builder.Services);

        var app = builder.Build();
        app.MapHeadscaleManagementApi();
        await app.StartAsync(cancellationToken);

        return new ManagementTestServer(app, keys, clock, socketDirectory, rest!.IPEndPoint!.Port, grpc!.IPEndPoint!.Port, socketPath);
    }

    /// <summary>Creates a valid key in the store (expiring in a day) and returns its full text.</summary>
    public string AddKey(ApiKeyForm form = ApiKeyForm.Legacy, TimeSpan? lifetime = null)
    {
        var key = ApiKeyCodec.Generate(form);
        Keys.Put(key.Prefix, InMemoryApiKeyStore.CheapHash(key.Secret), Clock.Now + (lifetime ?? TimeSpan.FromDays(1)), Clock.Now);
        return key.FullKey;
    }

    public HttpClient Rest(string? bearer = null) => RestWithAuthorization(bearer is null ? null : "Bearer " + bearer);

    /// <summary>A REST client sending this exact Authorization header (null: none).</summary>
    public HttpClient RestWithAuthorization(string? authorization)
    {
        var client = new HttpClient { BaseAddress = RestBase };
        if (authorization is not null)
        {
            client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", authorization);
        }

        _clients.Add(client);
        return client;
    }

    /// <summary>gRPC over the TCP listener, optionally sending <c>authorization: Bearer …</c> metadata.</summary>
    public CallInvoker GrpcInvoker(string? authorization = null)
    {
        var channel = GrpcChannel.ForAddress(GrpcBase, new GrpcChannelOptions { Credentials = ChannelCredentials.Insecure });
        _clients.Add(channel);
        return authorization is null
            ? channel.CreateCallInvoker()
            : channel.CreateCallInvoker().Intercept(metadata =>
            {
                metadata.Add("authorization", authorization);
                return metadata;
            });
    }

    public HeadscaleService.HeadscaleServiceClient Grpc(string? bearer = null) =>
        new(GrpcInvoker(bearer is null ? null : "Bearer " + bearer));

    /// <summary>gRPC over the unix socket, as the local CLI connects: no key.</summary>
    public CallInvoker UnixSocketInvoker()
    {
        var handler = new SocketsHttpHandler
        {
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                await socket.ConnectAsync(new UnixDomainSocketEndPoint(SocketPath), cancellationToken);
                return new NetworkStream(socket, ownsSocket: true);
            },
        };
        var channel = GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions { HttpHandler = handler });
        _clients.Add(channel);
        return channel.CreateCallInvoker();
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            client.Dispose();
        }

        await _app.StopAsync();
        await _app.DisposeAsync();
        Directory.Delete(_socketDirectory, recursive: true);
    }
}
