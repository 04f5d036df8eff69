using System.Collections.Immutable;
using Akka.Hosting;
using Headscale.Actors.Addressing;
using Headscale.Actors.Hosting;
using Headscale.Actors.Nodes;
using Headscale.Actors.Persistence;
using Headscale.Actors.PreAuthKeys;
using Headscale.Actors.Registration;
using Headscale.Actors.Users;
using Headscale.Actors.Users.Messages;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Headscale.Actors.Tests.Lifecycle;

/// <summary>
/// The production composition root (AddHeadscaleActors: one-member cluster, sharding, singletons)
/// on a temporary SQLite journal, started once per test class to keep the suite fast. Tests
/// share it but never data: each creates its own users, keys and machine keys.
/// </summary>
public sealed class LifecycleHost : IAsyncLifetime
{
    public static readonly Uri ServerUrl = new("https://hs.example.test");

    private readonly TempDirectory _directory = new();
    private readonly DomainSettings _settings;
    private IHost? _host;

    public LifecycleHost() => _settings = Settings;

    private LifecycleHost(DomainSettings settings) => _settings = settings;

    /// <summary>A host with other settings, for the few tests that need them (started with <see cref="InitializeAsync"/>).</summary>
    public static LifecycleHost With(DomainSettings settings) => new(settings);

    public static DomainSettings Settings => new()
    {
        ServerUrl = ServerUrl,
        Addressing = AddressingSettings.Default with { Strategy = AllocationStrategy.Random },
        EphemeralInactivityTimeout = TimeSpan.FromMilliseconds(500),
        RegisterCacheExpiration = TimeSpan.FromSeconds(3),
        BcryptWorkFactor = 4,

        // The machine is shared with other builds; a generous timeout keeps a slow moment from failing a test.
        AskTimeout = TimeSpan.FromSeconds(30),
    };

    public IServiceProvider Services => _host?.Services ?? throw new InvalidOperationException("host not started");

    public IUserService Users => Services.GetRequiredService<IUserService>();

    public IPreAuthKeyService Keys => Services.GetRequiredService<IPreAuthKeyService>();

    public INodeService Nodes => Services.GetRequiredService<INodeService>();

    public IRegistrationService Registration => Services.GetRequiredService<IRegistrationService>();

    public async ValueTask InitializeAsync()
    {
        _host = new HostBuilder()
            .ConfigureServices(services => services.AddHeadscaleActors(new HeadscaleActorsOptions
            {
                Database = new DatabaseSettings { Kind = DatabaseKind.Sqlite, SqlitePath = _directory.File("journal.db") },
                Domain = _settings,
                NetworkMap = new NetworkMapOptions { OfflineGrace = TimeSpan.FromMilliseconds(200) },
            }))
            .Build();
        await _host.Services.GetRequiredService<JournalDatabase>().PrepareAsync(TestContext.Current.CancellationToken);
        await _host.StartAsync(TestContext.Current.CancellationToken);

        // Wait until every singleton answers, so no test pays for cluster formation.
        var ct = TestContext.Current.CancellationToken;
        await Users.ListAsync(ct);
        await Keys.ListAsync(null, ct);
        await Nodes.ListAsync(null, ct);
        await Nodes.GetPendingAsync("warm-up", ct);
        await Services.GetRequiredService<Headscale.Actors.Identity.IIdAllocator>().AllocateAsync(Headscale.Actors.Identity.IdKind.ApiKey, ct);
    }

    public async ValueTask DisposeAsync()
    {
        if (_host is not null)
        {
            await _host.StopAsync(CancellationToken.None);
            _host.Dispose();
        }

        _directory.Dispose();
    }

    public async Task<User> CreateUserAsync(string prefix)
    {
        var name = prefix + "-" + Guid.NewGuid().ToString("N")[..8];
        var created = await Users.CreateAsync(name, "", "", DateTimeOffset.UtcNow, Cause.Cli("users create"), TestContext.Current.CancellationToken);
        Assert.Equal(ResultCode.Ok, created.Result.Code);
        return created.User!;
    }

    public async Task<string> CreateKeyAsync(UserId user, bool reusable = false, bool ephemeral = false, TimeSpan? validFor = null, ImmutableArray<string> tags = default)
    {
        var now = DateTimeOffset.UtcNow;
        var created = await Keys.CreateAsync(
            new PreAuthKeySpec(user, reusable, ephemeral, now + (validFor ?? TimeSpan.FromHours(1)), tags.IsDefault ? [] : tags),
            now,
            Cause.Cli("preauthkeys create"),
            TestContext.Current.CancellationToken);
        Assert.Equal(ResultCode.Ok, created.Result.Code);
        return created.FullKey;
    }

    public Task<RegisterOutcome> RegisterAsync(MachineKey machine, RegisterRequestModel request) =>
        Registration.RegisterAsync(machine, request, DateTimeOffset.UtcNow, TestContext.Current.CancellationToken);

    public static RegisterRequestModel Request(NodeKey nodeKey, string authKey = "", string hostname = "host") =>
        new(nodeKey, NodeKey.Zero, authKey, null, "", hostname, false);
}
