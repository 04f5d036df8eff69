using Xunit;
using Headscale.Actors;
using Headscale.Actors.Addressing;
using Headscale.Actors.Hosting;
using Headscale.Actors.NetworkMap;
using Headscale.Actors.Nodes;
using Headscale.Actors.Persistence;
using Headscale.Actors.PreAuthKeys;
using Headscale.Actors.Registration;
using Headscale.Actors.Users;
using Headscale.Api.ControlPlane;
using Headscale.Api.Management.Backends;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Headscale.Api.Tests.Management;

/// <summary>
/// The real actor layer (one-member cluster on a temporary SQLite journal) behind the real
/// actor-backed management backends, started once per test class.
/// </summary>
public sealed class ActorBackendHost : IAsyncLifetime
{
    private readonly string _directory = Directory.CreateTempSubdirectory("hs-backend-").FullName;
    private IHost? _host;

    public IServiceProvider Services => _host?.Services ?? throw new InvalidOperationException("host not started");

    public ActorNodeManagement Nodes => Services.GetRequiredService<ActorNodeManagement>();

    public ActorUserManagement Users => Services.GetRequiredService<ActorUserManagement>();

    public ActorMapNodeDirectory MapDirectory => Services.GetRequiredService<ActorMapNodeDirectory>();

    public async ValueTask InitializeAsync()
    {
        var ct = TestContext.Current.CancellationToken;
        _host = new HostBuilder()
            .ConfigureServices(services =>
            {
                services.AddHeadscaleActors(new HeadscaleActorsOptions
                {
                    Database = new DatabaseSettings { Kind = DatabaseKind.Sqlite, SqlitePath = Path.Combine(_directory, "journal.db") },
                    Domain = new DomainSettings
                    {
                        Addressing = AddressingSettings.Default with { Strategy = AllocationStrategy.Random },
                        BcryptWorkFactor = 4,
                        AskTimeout = TimeSpan.FromSeconds(30),
                    },
                });
                services.AddSingleton<IHttpContextAccessor, HttpContextAccessor>();
                services.AddSingleton<ManagementCaller>();
                services.AddSingleton<ActorNodeManagement>();
                services.AddSingleton<ActorUserManagement>();
                services.AddLogging();
                services.AddSingleton<ActorMapNodeDirectory>();
            })
            .Build();
        await _host.Services.GetRequiredService<JournalDatabase>().PrepareAsync(ct);
        await _host.StartAsync(ct);
        await Services.GetRequiredService<INodeService>().ListAsync(null, ct);
        await Services.GetRequiredService<IUserService>().ListAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.StopAsync(CancellationToken.None);
            _host.Dispose();
        }

        Directory.Delete(_directory, recursive: true);
    }

    /// <summary>A fresh user with one node registered by pre-auth key.</summary>
    public async Task<(Headscale.Actors.Users.Messages.User User, Headscale.Actors.Nodes.Messages.Node Node)> NodeAsync(string prefix)
    {
        var ct = TestContext.Current.CancellationToken;
        var now = DateTimeOffset.UtcNow;
        var user = (await Services.GetRequiredService<IUserService>().CreateAsync(prefix + "-" + Guid.NewGuid().ToString("N")[..8], "", "", now, Cause.Cli("test"), ct)).User!;
        var key = await Services.GetRequiredService<IPreAuthKeyService>().CreateAsync(
            new PreAuthKeySpec(user.Id, false, false, now.AddHours(1), []), now, Cause.Cli("test"), ct);
        var nodeKey = NodeKey.FromBytes(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        var outcome = await Services.GetRequiredService<IRegistrationService>().RegisterAsync(
            MachineKey.FromBytes(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)),
            new RegisterRequestModel(nodeKey, NodeKey.Zero, key.FullKey, null, "", prefix, false),
            now,
            ct);
        Assert.Equal("", outcome.Error);
        return (user, outcome.Node!);
    }

    /// <summary>The node as the network map holds it, once the feed has delivered it.</summary>
    public async Task WaitUntilMappedAsync(NodeId id)
    {
        var status = Services.GetRequiredService<INetworkMapStatus>();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(20));
        while ((await status.GetAsync([(long)id.Value], cts.Token)).Count == 0)
        {
            await Task.Delay(20, cts.Token);
        }
    }
}
