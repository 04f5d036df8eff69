using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Headscale.Api.Management;
using Headscale.IntegrationTests.Support;
using Headscale.Management.V1;
using Headscale.Protocol.Client;
using Headscale.Protocol.Keys;

namespace Headscale.IntegrationTests.ControlPlane;

/// <summary>
/// One real <c>headscale serve</c> (SQLite) per test class, reached by Tailscale-like nodes through the ts2021 client
/// library and administered over gRPC on its unix socket, as the local CLI does.
/// </summary>
public class ControlServer : IAsyncLifetime
{
    private readonly TestServerConfig _config = new();
    private ServerProcess? _server;
    private ManagementClientConnection? _management;
    private int _names;

    /// <summary>Extra config.yaml lines for this server (ephemeral timeout, prefixes).</summary>
    protected virtual string ExtraConfig => "";

    public Uri Url => new($"http://127.0.0.1:{_config.Port}");

    public MachinePublicKey NoiseKey { get; private set; }

    public HeadscaleService.HeadscaleServiceClient Admin => _management!.Client;

    public ServerProcess Process => _server!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        var socket = Path.Combine(_config.Directory, "headscale.sock");
        _config.Extra = $"unix_socket: {socket}\n" + ExtraConfig;
        _server = await ServerProcess.StartAsync(_config, Ct);
        _management = ManagementClientConnection.Open(new ManagementClientOptions(null, null, false, socket, TimeSpan.FromSeconds(60)));
        NoiseKey = await Ts2021Client.FetchServerKeyAsync(_server.Http, Url, ControlNode.DefaultCapabilityVersion, Ct);
    }

    public string UniqueName(string prefix) => prefix + Interlocked.Increment(ref _names).ToString(CultureInfo.InvariantCulture);

    public ControlNode NewNode(string? hostname = null, ushort version = ControlNode.DefaultCapabilityVersion) =>
        new(Url, NoiseKey, hostname ?? UniqueName("host"), version);

    /// <summary>A node registered with a fresh single-use key of <paramref name="user"/>.</summary>
    public async Task<ControlNode> RegisteredNodeAsync(User user, string? hostname = null, IReadOnlyList<string>? routes = null)
    {
        var node = NewNode(hostname);
        node.AnnouncedRoutes = routes ?? [];
        var result = await node.RegisterAsync(await CreateKeyAsync(user), Ct);
        Assert.True(result.Succeeded, result.RawBody);
        return node;
    }

    public async Task<User> CreateUserAsync(string prefix = "user") =>
        (await Admin.CreateUserAsync(new CreateUserRequest { Name = UniqueName(prefix) }, cancellationToken: Ct)).User;

    public async Task<string> CreateKeyAsync(User user, bool reusable = false, bool ephemeral = false, TimeSpan? validFor = null, params string[] tags)
    {
        var request = new CreatePreAuthKeyRequest
        {
            User = user.Id,
            Reusable = reusable,
            Ephemeral = ephemeral,
            Expiration = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow + (validFor ?? TimeSpan.FromHours(1))),
        };
        request.AclTags.AddRange(tags);
        return (await Admin.CreatePreAuthKeyAsync(request, cancellationToken: Ct)).PreAuthKey.Key;
    }

    /// <summary>The node whose node key is <paramref name="nodeKey"/>, or null.</summary>
    public async Task<Node?> FindNodeAsync(string nodeKey) =>
        (await Admin.ListNodesAsync(new ListNodesRequest(), cancellationToken: Ct)).Nodes.FirstOrDefault(n => n.NodeKey == nodeKey);

    /// <summary>Polls the node list until <paramref name="condition"/> holds (the server acts on its own timers).</summary>
    public async Task<IReadOnlyList<Node>> WaitForNodesAsync(Func<IReadOnlyList<Node>, bool> condition, TimeSpan timeout)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(timeout);
        while (true)
        {
            var nodes = (await Admin.ListNodesAsync(new ListNodesRequest(), cancellationToken: Ct)).Nodes;
            if (condition(nodes))
            {
                return nodes;
            }

            await Task.Delay(100, deadline.Token);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _management?.Dispose();
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _config.Dispose();
        GC.SuppressFinalize(this);
    }
}
