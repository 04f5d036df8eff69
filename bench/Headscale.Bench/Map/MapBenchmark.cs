using System.Diagnostics;
using System.Globalization;
using System.Text;
using Google.Protobuf.WellKnownTypes;
using Headscale.Management.V1;
using Headscale.Protocol.Client;

namespace Headscale.Bench.Map;

/// <summary>
/// B1–B3 (performance.md): idle map sessions per server RSS, one change fanned out to every session, and a policy
/// change reaching every session, against a real <c>headscale serve</c> in its own process.
/// <code>dotnet run -c Release --project bench/Headscale.Bench -- map --nodes 1000 [--server-exe path/headscale.dll]
///   [--concurrency 64] [--setup-timeout 300] [--change-timeout 30] [--idle 5]</code>
/// The default server is the bench's own build (JIT only). To measure the server as the image ships it (ReadyToRun,
/// decision 0905), publish it first and pass it:
/// <code>dotnet publish src/Headscale.Api -c Release -r linux-x64 --self-contained false -p:PublishReadyToRun=true -o /tmp/hs-r2r
/// dotnet run -c Release --project bench/Headscale.Bench -- map --nodes 1000 --server-exe /tmp/hs-r2r/headscale.dll</code>
/// </summary>
internal static class MapBenchmark
{
    public const string Command = "map";

    private const string Route = "10.200.0.0/24";

    // Narrower than the default allow-all, so every node's packet filter changes.
    private static string NarrowPolicy(int port) =>
        "{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:" + port.ToString(CultureInfo.InvariantCulture) + "\"]}]}";

    /// <summary>How many endpoint changes B2c times, one after the other.</summary>
    private const int EndpointRounds = 5;

    public static async Task<int> RunAsync(string[] args)
    {
        CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
        var (settings, error) = MapBenchSettings.Parse(args);
        if (settings is null)
        {
            Console.Error.WriteLine($"map: {error}");
            Console.Error.WriteLine(MapBenchSettings.Usage);
            return 2;
        }

        using var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };

        var report = new MapBenchReport(settings.Nodes);
        Console.WriteLine($"map benchmark: {settings.Nodes} nodes, {settings.Concurrency} in flight, server {settings.ServerExe}, " +
                          $"{Environment.ProcessorCount} cores");
        var sessions = new List<MapSession>();
        MapSession? joiner = null;
        await using var server = await BenchServer.StartAsync(settings.ServerExe, settings.ServerEnvironment, TimeSpan.FromSeconds(90), cancel.Token);
        try
        {
            await RunPhasesAsync(server, settings, sessions, report, j => joiner = j, cancel.Token);
            // Before the sessions close: closing a thousand client connections takes minutes on two cores.
            report.Print();
        }
        catch (Exception e) when (e is TimeoutException or InvalidOperationException or HttpRequestException or Grpc.Core.RpcException)
        {
            Console.Error.WriteLine($"map: stopped early: {e.Message}");
            report.Print();
            return 1;
        }
        finally
        {
            // The server goes first: the client connections then fail at once instead of each closing in turn,
            // which took many minutes for thousands of them and kept both processes busy after the run.
            await server.DisposeAsync();
            var closing = Task.WhenAll(sessions.Append(joiner).OfType<MapSession>().Select(s => s.DisposeAsync().AsTask()));
            await Task.WhenAny(closing, Task.Delay(TimeSpan.FromSeconds(5), CancellationToken.None));
        }

        return 0;
    }

    private static async Task RunPhasesAsync(
        BenchServer server, MapBenchSettings settings, List<MapSession> sessions, MapBenchReport report, Action<MapSession> setJoiner,
        CancellationToken cancellationToken)
    {
        var admin = server.Admin;
        var user = (await admin.CreateUserAsync(new CreateUserRequest { Name = "bench" }, cancellationToken: cancellationToken)).User;
        var key = (await admin.CreatePreAuthKeyAsync(new CreatePreAuthKeyRequest
        {
            User = user.Id,
            Reusable = true,
            Expiration = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(2)),
        }, cancellationToken: cancellationToken)).PreAuthKey.Key;
        using var http = new HttpClient { BaseAddress = server.Url };
        var serverKey = await Ts2021Client.FetchServerKeyAsync(http, server.Url,
            ControlNode.DefaultCapabilityVersion, cancellationToken);
        report.RssAtStart = server.ReadRssBytes();
        report.ResidentAtStart = ResidentMemory.Read(server.ProcessId);
        report.HeapAtStart = await server.ReadManagedHeapBytesAsync(cancellationToken);
        await server.CollectGarbageAsync(cancellationToken);
        report.RssAtStartCollected = server.ReadRssBytes();
        report.LiveHeapAtStart = await server.ReadManagedHeapBytesAsync(cancellationToken);
        report.GcCommittedAtStart = await server.ReadGcCommittedBytesAsync(cancellationToken);

        for (var i = 0; i < settings.Nodes; i++)
        {
            sessions.Add(new MapSession(server.Url, serverKey, "bench-" + i.ToString(CultureInfo.InvariantCulture), i == 0 ? [Route] : []));
        }

        var parallel = new ParallelOptions { MaxDegreeOfParallelism = settings.Concurrency, CancellationToken = cancellationToken };
        using (var setup = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            setup.CancelAfter(settings.SetupTimeout);
            parallel.CancellationToken = setup.Token;
            var cpu = server.ReadCpuTime();
            var clock = Stopwatch.StartNew();
            await Parallel.ForEachAsync(sessions, parallel, (s, ct) => new ValueTask(s.RegisterAsync(key, ct)));
            report.Registration = (clock.Elapsed, server.ReadCpuTime() - cpu);
            report.RssAfterRegistration = server.ReadRssBytes();
            report.ResidentAfterRegistration = ResidentMemory.Read(server.ProcessId);
            report.HeapAfterRegistration = await server.ReadManagedHeapBytesAsync(cancellationToken);
            Console.WriteLine($"registered {settings.Nodes} nodes in {clock.Elapsed.TotalSeconds:F1} s");

            cpu = server.ReadCpuTime();
            clock.Restart();
            await Parallel.ForEachAsync(sessions, parallel, async (s, ct) =>
            {
                await OpenRedialingAsync(s, report, ct);
                await s.FullMap.WaitAsync(ct);
            });
            report.OpenSessions = (clock.Elapsed, server.ReadCpuTime() - cpu);
            report.FullMapBytes = sessions.Sum(s => s.FullMapBytes);
            Console.WriteLine($"opened {settings.Nodes} map sessions with full maps in {clock.Elapsed.TotalSeconds:F1} s");
        }

        var idleCpu = server.ReadCpuTime();
        await Task.Delay(settings.IdleWait, cancellationToken);
        report.IdleCpu = (settings.IdleWait, server.ReadCpuTime() - idleCpu);
        report.RssWithSessions = server.ReadRssBytes();
        report.ResidentWithSessions = ResidentMemory.Read(server.ProcessId);
        report.HeapWithSessions = await server.ReadManagedHeapBytesAsync(cancellationToken);
        report.MemoryReclaims = await server.ReadMemoryReclaimsAsync(cancellationToken);
        await server.CollectGarbageAsync(cancellationToken);
        report.RssWithSessionsCollected = server.ReadRssBytes();
        report.LiveHeapWithSessions = await server.ReadManagedHeapBytesAsync(cancellationToken);
        report.GcCommittedWithSessions = await server.ReadGcCommittedBytesAsync(cancellationToken);
        report.HeapByGenerationWithSessions = await server.ReadHeapByGenerationAsync(cancellationToken);
        report.TransportPoolWithSessions = await server.ReadTransportPoolFreeBytesAsync(cancellationToken);
        report.LostSessions = sessions.Count(s => s.Error is not null);
        if (report.LostSessions > 0)
        {
            Console.WriteLine($"  {report.LostSessions} sessions lost after their full map; first: {sessions.First(s => s.Error is not null).Error!.Message}");
        }

        // B2a: a new node joins; every session must see its key in a PeersChanged delta.
        var joiner = new MapSession(server.Url, serverKey, "bench-joiner", []);
        setJoiner(joiner);
        var joinedKey = Encoding.UTF8.GetBytes(joiner.Node.NodeKey);
        report.Join = await MeasureAsync(server, sessions, settings.Nodes, settings.ChangeTimeout,
            json => json.IndexOf(joinedKey) >= 0,
            () => joiner.RegisterAsync(key, cancellationToken));

        // B2b: an admin approves the route node 0 announces; every other session must see it in that peer's AllowedIPs.
        var routerKey = sessions[0].Node.NodeKey;
        var routerId = (await admin.ListNodesAsync(new ListNodesRequest(), cancellationToken: cancellationToken)).Nodes
            .First(n => n.NodeKey == routerKey).Id;
        report.Route = await MeasureAsync(server, sessions, settings.Nodes - 1, settings.ChangeTimeout,
            json => MapFrames.PeerHasAllowedIp(json, routerKey, Route),
            () =>
            {
                var approve = new SetApprovedRoutesRequest { NodeId = routerId };
                approve.Routes.Add(Route);
                return admin.SetApprovedRoutesAsync(approve, cancellationToken: cancellationToken).ResponseAsync;
            });

        Console.WriteLine("B2 route done; endpoint rounds next");
        // B2c: node 0 reports a new endpoint in a lite map update, several times; every other session must get a
        // PeersChangedPatch with it. Rounds follow each other once the last one has arrived everywhere.
        var rounds = new List<ChangeResult>();
        for (var round = 1; round <= EndpointRounds; round++)
        {
            var endpoint = $"192.0.2.{round}:41641";
            var endpointBytes = Encoding.UTF8.GetBytes(endpoint);
            rounds.Add(await MeasureAsync(server, sessions, settings.Nodes - 1, settings.ChangeTimeout,
                json => json.IndexOf("PeersChangedPatch"u8) >= 0 && json.IndexOf(endpointBytes) >= 0,
                () => sessions[0].ReportEndpointAsync(endpoint, cancellationToken)));
        }

        report.Endpoint = ChangeResult.Combine(rounds);
        report.EndpointRounds = EndpointRounds;
        // A marker for tools that sample the server during one phase (e.g. perf over B3 alone).
        Console.WriteLine("B2 done; B3 policy change next");

        // B3: a policy narrower than allow-all; every session must get a packet filter that allows only port 443. The
        // first policy change after start also runs code paths for the first time (compiler, per-viewer pass, new
        // filter frames); the second one, to port 8443, is what every later change costs.
        report.Policy = await MeasureAsync(server, sessions, settings.Nodes, settings.ChangeTimeout,
            json => MapFrames.HasFilterForPort(json, 443),
            () => admin.SetPolicyAsync(new SetPolicyRequest { Policy = NarrowPolicy(443) }, cancellationToken: cancellationToken).ResponseAsync);
        Console.WriteLine("B3 first change done; second next");
        report.SecondPolicy = await MeasureAsync(server, sessions, settings.Nodes, settings.ChangeTimeout,
            json => MapFrames.HasFilterForPort(json, 8443),
            () => admin.SetPolicyAsync(new SetPolicyRequest { Policy = NarrowPolicy(8443) }, cancellationToken: cancellationToken).ResponseAsync);
    }

    /// <summary>
    /// Opens the map stream; at thousands of nodes the open phase outlasts the server's keep-alive timeout, so a
    /// connection idle since registration may be closed under the request, and a new handshake can time out while the
    /// server is busy with the storm of full maps. A real client redials with backoff, and so do we (up to five tries).
    /// </summary>
    private static async Task OpenRedialingAsync(MapSession session, MapBenchReport report, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await session.OpenAsync(cancellationToken);
                return;
            }
            catch (Exception e) when (attempt < 5 && e is HttpRequestException { StatusCode: null } or IOException or TimeoutException)
            {
                Interlocked.Increment(ref report.Redials);
            }
        }
    }

    private static async Task<ChangeResult> MeasureAsync(
        BenchServer server, List<MapSession> sessions, int expected, TimeSpan timeout, FrameMatcher matcher, Func<Task> change)
    {
        var watch = new FrameWatch(matcher, expected);
        using var quiet = GeneratorQuiet.Start();
        foreach (var session in sessions)
        {
            session.Arm(watch);
        }

        var cpu = server.ReadCpuTime();
        watch.MarkStart();
        await change();
        var adminCall = Stopwatch.GetElapsedTime(watch.Start);
        var complete = await watch.WaitAsync(timeout);
        if (!complete)
        {
            var missing = sessions.Where(s => !watch.HasMatched(s)).ToList();
            Console.WriteLine($"  {missing.Count} sessions missed the change; e.g. {string.Join(", ", missing.Take(5).Select(s => $"{s.Node.Hostname} ({s.FrameCount} frames{(s.Error is null ? "" : ", " + s.Error.GetType().Name + ": " + s.Error.Message)})"))}");
        }

        var latencies = watch.LatenciesMs();
        return new ChangeResult(expected, latencies, complete, watch.Failures, adminCall, server.ReadCpuTime() - cpu, quiet.Load);
    }
}
