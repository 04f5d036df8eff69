using System.Globalization;
using System.Text.Json.Nodes;
using Google.Protobuf.WellKnownTypes;
using Headscale.Api.Management;
using Headscale.IntegrationTests.Support;
using Headscale.Management.V1;
using Headscale.Protocol.Client;
using Headscale.Protocol.Keys;

namespace Headscale.IntegrationTests.Cluster;

/// <summary>
/// Two real <c>headscale serve</c> processes on loopback as one Akka cluster (the same seed node, one
/// PostgreSQL journal), each with its own clients: what one host stores and sees reaches the other,
/// online status counts the streams of both, and a host that leaves gracefully leaves the other serving.
/// </summary>
public sealed class TwoHostClusterTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(45);
    private const string Route = "10.99.0.0/24";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Clients_of_two_hosts_see_each_other_online_and_the_first_host_serves_on_when_the_second_leaves()
    {
        var database = await postgres.Server.CreateDatabaseAsync("cluster");
        var seedPort = TestPorts.GetFree();
        var seed = $"akka.tcp://headscale@127.0.0.1:{seedPort}";
        using var config1 = HostConfig(database, seedPort, seed);
        var host2Port = TestPorts.GetFree();
        using var config2 = HostConfig(database, host2Port, seed);

        await using var host1 = await ServerProcess.StartAsync(config1, Ct);
        await WaitForMembersUpAsync(host1, 1);

        // Administered through host 1 only.
        using var admin = ManagementClientConnection.Open(new ManagementClientOptions(null, null, false, config1.SocketPath, TimeSpan.FromSeconds(60)));
        var key = await CreateReusableKeyAsync(admin, "cluster-user");
        var noiseKey = await Ts2021Client.FetchServerKeyAsync(host1.Http, Url(config1), ControlNode.DefaultCapabilityVersion, Ct);

        // A streams to host 1 before host 2 exists: host 2 learns that A is online only by asking host 1 when it joins.
        using var a = new ControlNode(Url(config1), noiseKey, "node-a");
        var registeredA = await a.RegisterAsync(key, Ct);
        Assert.True(registeredA.Succeeded, registeredA.RawBody);
        await using var streamA = await a.StreamMapAsync(Ct);
        var viewA = new PeerWatch();
        viewA.Apply((await streamA.ReadAsync(Ct))!);

        // Hosts behind one name share the Noise key, as a cluster's clients expect.
        File.Copy(config1.NoiseKeyPath, config2.NoiseKeyPath);
        await using var host2 = await ServerProcess.StartAsync(config2, Ct);
        await WaitForMembersUpAsync(host1, 2);
        await WaitForMembersUpAsync(host2, 2);
        await WaitForMetricAsync(host2, "headscale_nodes", n => n >= 1);
        Assert.Equal(noiseKey, await Ts2021Client.FetchServerKeyAsync(host2.Http, Url(config2), ControlNode.DefaultCapabilityVersion, Ct));

        // The key created through host 1 works on host 2.
        using var b = new ControlNode(Url(config2), noiseKey, "node-b") { AnnouncedRoutes = [Route] };
        var registeredB = await b.RegisterAsync(key, Ct);
        Assert.True(registeredB.Succeeded, registeredB.RawBody);
        var nodes = (await admin.Client.ListNodesAsync(new ListNodesRequest(), cancellationToken: Ct)).Nodes;
        var idB = nodes.Single(n => n.NodeKey == b.NodeKey).Id;
        var idA = nodes.Single(n => n.NodeKey == a.NodeKey).Id;
        var approve = new SetApprovedRoutesRequest { NodeId = idB };
        approve.Routes.Add(Route);
        await admin.Client.SetApprovedRoutesAsync(approve, cancellationToken: Ct);

        var streamB = await b.StreamMapAsync(Ct);
        try
        {
            // Each sees the other as an online peer, and B's route has its primary on host 1's map too.
            var viewB = new PeerWatch();
            await viewB.ReadUntilAsync(streamB, v => v.Online(a.NodeKey) == true);
            await viewA.ReadUntilAsync(streamA, v => v.Online(b.NodeKey) == true && v.PrimaryRoutes(b.NodeKey).Contains(Route));
            var listed = (await admin.Client.ListNodesAsync(new ListNodesRequest(), cancellationToken: Ct)).Nodes.Single(n => n.Id == idB);
            Assert.True(listed.Online, "host 1's management API shows the node streaming to host 2 online");

            // B's stream ends on host 2: after the grace, A on host 1 is told B went offline.
            await streamB.DisposeAsync();
            await viewA.ReadUntilAsync(streamA, v => v.Online(b.NodeKey) == false && !v.PrimaryRoutes(b.NodeKey).Contains(Route));

            // B streams to host 2 again, and host 2 leaves the cluster (SIGTERM) while it does.
            streamB = await b.StreamMapAsync(Ct);
            await viewA.ReadUntilAsync(streamA, v => v.Online(b.NodeKey) == true);
            Assert.Equal(0, await host2.StopAsync(TimeSpan.FromSeconds(60)));
        }
        finally
        {
            await streamB.DisposeAsync();
        }

        // The stream that host took with it no longer counts: B goes offline on host 1 after the grace.
        await viewA.ReadUntilAsync(streamA, v => v.Online(b.NodeKey) == false);
        // Host 1 saw host 2 removed from the cluster (not only its streams end).
        Assert.Contains($"host akka.tcp://headscale@127.0.0.1:{host2Port} left the cluster", host1.Output, StringComparison.Ordinal);
        await WaitForMembersUpAsync(host1, 1);

        // Host 1 serves on: both node entities answer there (their shards moved), and A's stream hears of it.
        await admin.Client.RenameNodeAsync(new RenameNodeRequest { NodeId = idB, NewName = "node-b-renamed" }, cancellationToken: Ct);
        await admin.Client.RenameNodeAsync(new RenameNodeRequest { NodeId = idA, NewName = "node-a-renamed" }, cancellationToken: Ct);
        await viewA.ReadUntilAsync(streamA, v => v.Name(b.NodeKey).StartsWith("node-b-renamed.", StringComparison.Ordinal));
        Assert.False(host1.HasExited);
        var after = (await admin.Client.ListNodesAsync(new ListNodesRequest(), cancellationToken: Ct)).Nodes;
        Assert.Equal(["node-a-renamed", "node-b-renamed"], after.Select(n => n.GivenName).Order());
    }

    [Fact]
    public async Task A_crashed_host_s_streams_stop_counting_once_it_is_downed_and_its_node_entities_move()
    {
        var database = await postgres.Server.CreateDatabaseAsync("crash");
        // Split brain resolution keeps the side with the lowest address when both sides are one member:
        // the surviving host gets the lower port.
        var ports = new[] { TestPorts.GetFree(), TestPorts.GetFree() }.Order().ToArray();
        var seed = $"akka.tcp://headscale@127.0.0.1:{ports[0]}";
        using var config1 = HostConfig(database, ports[0], seed);
        using var config2 = HostConfig(database, ports[1], seed);
        await using var host1 = await ServerProcess.StartAsync(config1, Ct);
        File.Copy(config1.NoiseKeyPath, config2.NoiseKeyPath);
        await using var host2 = await ServerProcess.StartAsync(config2, Ct);
        await WaitForMembersUpAsync(host1, 2);
        await WaitForMembersUpAsync(host2, 2);

        using var admin = ManagementClientConnection.Open(new ManagementClientOptions(null, null, false, config1.SocketPath, TimeSpan.FromSeconds(60)));
        var key = await CreateReusableKeyAsync(admin, "crash-user");
        var noiseKey = await Ts2021Client.FetchServerKeyAsync(host1.Http, Url(config1), ControlNode.DefaultCapabilityVersion, Ct);
        using var a = new ControlNode(Url(config1), noiseKey, "node-a");
        Assert.True((await a.RegisterAsync(key, Ct)).Succeeded);
        using var b = new ControlNode(Url(config2), noiseKey, "node-b");
        Assert.True((await b.RegisterAsync(key, Ct)).Succeeded);
        var idB = (await admin.Client.ListNodesAsync(new ListNodesRequest(), cancellationToken: Ct)).Nodes.Single(n => n.NodeKey == b.NodeKey).Id;

        await using var streamA = await a.StreamMapAsync(Ct);
        var viewA = new PeerWatch();
        viewA.Apply((await streamA.ReadAsync(Ct))!);
        await using var streamB = await b.StreamMapAsync(Ct);
        await viewA.ReadUntilAsync(streamA, v => v.Online(b.NodeKey) == true);

        // Host 2 dies without a word: it becomes unreachable, is downed (split brain resolver, 20 s
        // stable-after) and removed; then, after the grace, B is offline on host 1.
        await host2.KillAsync(TimeSpan.FromSeconds(30));
        await viewA.ReadUntilAsync(streamA, v => v.Online(b.NodeKey) == false, TimeSpan.FromSeconds(90));
        Assert.Contains($"host akka.tcp://headscale@127.0.0.1:{ports[1]} left the cluster", host1.Output, StringComparison.Ordinal);

        // B's node entity answers on host 1 now, whichever host it lived on.
        await RetryUntilAnsweredAsync(host1, () => admin.Client.RenameNodeAsync(new RenameNodeRequest { NodeId = idB, NewName = "node-b-renamed" }, cancellationToken: Ct).ResponseAsync);
        await viewA.ReadUntilAsync(streamA, v => v.Name(b.NodeKey).StartsWith("node-b-renamed.", StringComparison.Ordinal));
        Assert.False(host1.HasExited);
    }

    /// <summary>Calls until the host answers (a shard being reallocated answers Unavailable meanwhile).</summary>
    private static async Task RetryUntilAnsweredAsync<T>(ServerProcess host, Func<Task<T>> call)
    {
        var deadline = DateTimeOffset.UtcNow + Wait;
        while (true)
        {
            try
            {
                await call();
                return;
            }
            catch (Grpc.Core.RpcException e) when (e.StatusCode == Grpc.Core.StatusCode.Unavailable)
            {
                if (DateTimeOffset.UtcNow > deadline)
                {
                    throw new TimeoutException($"still unavailable after {Wait}: {e.Status.Detail}\n{host.Output}", e);
                }

                TestContext.Current.TestOutputHelper?.WriteLine($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} unavailable: {e.Status.Detail}");
            }
        }
    }

    private static async Task<string> CreateReusableKeyAsync(ManagementClientConnection admin, string userName)
    {
        var user = (await admin.Client.CreateUserAsync(new CreateUserRequest { Name = userName }, cancellationToken: Ct)).User;
        return (await admin.Client.CreatePreAuthKeyAsync(new CreatePreAuthKeyRequest
        {
            User = user.Id,
            Reusable = true,
            Expiration = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(1)),
        }, cancellationToken: Ct)).PreAuthKey.Key;
    }

    private static Uri Url(TestServerConfig config) => new($"http://127.0.0.1:{config.Port}");

    private TestServerConfig HostConfig(string database, int clusterPort, string seed)
    {
        var config = new TestServerConfig().UsePostgres(postgres.Server, database);
        config.Extra += $"""
            unix_socket: {config.SocketPath}
            policy:
              mode: database
            cluster:
              hostname: 127.0.0.1
              port: {clusterPort}
              seed_nodes: ["{seed}"]

            """;
        return config;
    }

    private static Task WaitForMembersUpAsync(ServerProcess host, int count) =>
        WaitForMetricAsync(host, "headscale_cluster_members{status=\"up\"}", n => n == count);

    /// <summary>Scrapes the host's metrics until <paramref name="series"/> satisfies <paramref name="condition"/>.</summary>
    private static async Task WaitForMetricAsync(ServerProcess host, string series, Func<double, bool> condition)
    {
        using var metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{host.MetricsPort}") };
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(Wait);
        var last = "";
        try
        {
            while (true)
            {
                last = await metrics.GetStringAsync("/metrics", deadline.Token);
                if (ObservabilityTests.Parse(last).TryGetValue(series, out var value) && condition(value))
                {
                    return;
                }

                await Task.Delay(100, deadline.Token);
            }
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !Ct.IsCancellationRequested)
        {
            var seen = ObservabilityTests.Parse(last).Where(s => s.Key.StartsWith(series.Split('{')[0], StringComparison.Ordinal));
            throw new TimeoutException($"{series} not as expected within {Wait}: {string.Join(", ", seen)}\n{host.Output}");
        }
    }

    /// <summary>What a client holds of its peers after applying full maps and deltas: online, primary routes, name.</summary>
    private sealed class PeerWatch
    {
        private readonly Dictionary<string, JsonObject> _peers = new(StringComparer.Ordinal);
        private readonly Dictionary<long, bool> _online = new();

        public bool? Online(string key) =>
            _peers.TryGetValue(key, out var peer) && _online.TryGetValue(peer["ID"]!.GetValue<long>(), out var online) ? online : null;

        public IReadOnlyList<string> PrimaryRoutes(string key) =>
            _peers.TryGetValue(key, out var peer) && peer["PrimaryRoutes"] is JsonArray routes ? [.. routes.Select(r => r!.GetValue<string>())] : [];

        public string Name(string key) => _peers.TryGetValue(key, out var peer) ? peer["Name"]!.GetValue<string>() : "";

        public void Apply(JsonObject frame)
        {
            if (frame["Peers"] is JsonArray all)
            {
                _peers.Clear();
                Add(all);
            }

            Add(frame["PeersChanged"] as JsonArray);
            foreach (var (id, online) in (frame["OnlineChange"] as JsonObject) ?? [])
            {
                _online[long.Parse(id, CultureInfo.InvariantCulture)] = online!.GetValue<bool>();
            }

            foreach (var patch in (frame["PeersChangedPatch"] as JsonArray) ?? [])
            {
                if (patch!["Online"] is { } online)
                {
                    _online[patch["NodeID"]!.GetValue<long>()] = online.GetValue<bool>();
                }
            }
        }

        /// <summary>Reads and applies frames until <paramref name="condition"/> holds.</summary>
        public async Task ReadUntilAsync(MapStream stream, Func<PeerWatch, bool> condition, TimeSpan? within = null)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            deadline.CancelAfter(within ?? Wait);
            try
            {
                while (!condition(this))
                {
                    Apply(await stream.ReadAsync(deadline.Token) ?? throw new EndOfStreamException("the map stream ended"));
                }
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !Ct.IsCancellationRequested)
            {
                var peers = string.Join("; ", _peers.Select(p => $"{p.Value["Name"]} online={Online(p.Key)} routes=[{string.Join(',', PrimaryRoutes(p.Key))}]"));
                throw new TimeoutException($"the map did not reach the expected state within {within ?? Wait}; peers: {peers}");
            }
        }

        private void Add(JsonArray? peers)
        {
            foreach (var peer in peers ?? [])
            {
                var node = peer!.AsObject();
                _peers[node["Key"]!.GetValue<string>()] = node;
                if (node["Online"] is { } online)
                {
                    _online[node["ID"]!.GetValue<long>()] = online.GetValue<bool>();
                }
            }
        }
    }
}
