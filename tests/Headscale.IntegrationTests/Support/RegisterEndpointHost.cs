using System.Net.Http.Json;
using System.Security.Cryptography;
using Headscale.Actors;
using Headscale.Actors.Hosting;
using Headscale.Actors.Nodes;
using Headscale.Actors.Persistence;
using Headscale.Actors.PreAuthKeys;
using Headscale.Actors.Registration;
using Headscale.Actors.Users;
using Headscale.Api.ControlPlane;
using Headscale.Api.Endpoints;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Headscale.IntegrationTests.Support;

/// <summary>
/// A web application with the register endpoint and page over plain HTTP/1.1 on a free port. The
/// Noise transport is replaced by a middleware that takes the machine key from the
/// <see cref="MachineKeyHeader"/> header and sets <see cref="IControlPeerIdentity"/>, which is all
/// the endpoint reads from the transport.
/// </summary>
public sealed class RegisterEndpointHost : IAsyncLifetime
{
    public const string MachineKeyHeader = "X-Test-Machine-Key";

    private readonly TestServerConfig _directory = new();
    private WebApplication? _app;

    public Uri BaseAddress { get; private set; } = null!;

    public HttpClient Client { get; private set; } = null!;

    public IServiceProvider Services => _app!.Services;

    public IUserService Users => Services.GetRequiredService<IUserService>();

    public IPreAuthKeyService Keys => Services.GetRequiredService<IPreAuthKeyService>();

    public INodeService Nodes => Services.GetRequiredService<INodeService>();

    public ValueTask InitializeAsync() => new(StartAsync(TestContext.Current.CancellationToken));

    private async Task StartAsync(CancellationToken ct)
    {
        var host = this;
        var port = host._directory.Port;
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddRoutingCore();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddHeadscaleActors(new HeadscaleActorsOptions
        {
            Database = new DatabaseSettings { Kind = DatabaseKind.Sqlite, SqlitePath = Path.Combine(host._directory.Directory, "db.sqlite") },
            Domain = new DomainSettings
            {
                ServerUrl = new Uri($"http://127.0.0.1:{port}"),
                BcryptWorkFactor = 4,
            },
        });
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.ListenLocalhost(port, l => l.Protocols = HttpProtocols.Http1));

        var app = builder.Build();
        app.Use((context, next) =>
        {
            if (MachineKey.TryParse(context.Request.Headers[MachineKeyHeader].ToString(), out var key))
            {
                context.Features.Set<IControlPeerIdentity>(new ControlPeerIdentity(key));
            }

            return next(context);
        });
        app.UseRouting();
        app.MapMachineRegister();
        app.MapRegisterPage();

        await app.Services.GetRequiredService<JournalDatabase>().PrepareAsync(ct);
        await app.StartAsync(ct);
        host._app = app;
        host.BaseAddress = new Uri($"http://127.0.0.1:{port}");
        host.Client = new HttpClient { BaseAddress = host.BaseAddress, Timeout = TimeSpan.FromSeconds(30) };
    }

    public static string NewMachineKey() => MachineKey.FromBytes(RandomNumberGenerator.GetBytes(32)).Value;

    public static string NewNodeKey() => NodeKey.FromBytes(RandomNumberGenerator.GetBytes(32)).Value;

    public async Task<(UserId User, string Name)> CreateUserAsync(CancellationToken ct)
    {
        var name = "u" + Guid.NewGuid().ToString("N")[..10];
        var created = await Users.CreateAsync(name, "", "", DateTimeOffset.UtcNow, Cause.Cli("users create"), ct);
        return (created.User!.Id, name);
    }

    public async Task<string> CreateKeyAsync(UserId user, CancellationToken ct, bool reusable = false, TimeSpan? validFor = null)
    {
        var created = await Keys.CreateAsync(
            new PreAuthKeySpec(user, reusable, false, DateTimeOffset.UtcNow + (validFor ?? TimeSpan.FromHours(1)), []),
            DateTimeOffset.UtcNow, Cause.Cli("preauthkeys create"), ct);
        return created.FullKey;
    }

    /// <summary>POSTs a JSON body to /machine/register as <paramref name="machineKey"/> (null: no Noise identity).</summary>
    public Task<HttpResponseMessage> PostRegisterAsync(string? machineKey, HttpContent body, CancellationToken ct)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, MachineRegisterEndpoint.Path) { Content = body };
        if (machineKey is not null)
        {
            request.Headers.Add(MachineKeyHeader, machineKey);
        }

        return Client.SendAsync(request, ct);
    }

    public async Task<RegisterResponse> RegisterAsync(string machineKey, object body, CancellationToken ct)
    {
        using var response = await PostRegisterAsync(machineKey, JsonContent.Create(body), ct);
        Assert.Equal(System.Net.HttpStatusCode.OK, response.StatusCode);
        var parsed = await response.Content.ReadFromJsonAsync(ControlPlaneJsonContext.Default.RegisterResponse, ct);
        return parsed!;
    }

    public async ValueTask DisposeAsync()
    {
        Client?.Dispose();
        if (_app is not null)
        {
            await _app.StopAsync(CancellationToken.None);
            await _app.DisposeAsync();
        }

        _directory.Dispose();
    }
}
