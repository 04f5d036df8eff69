using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using Headscale.Api.Management;
using Headscale.IntegrationTests.Support;
using Headscale.Management.V1;

namespace Headscale.IntegrationTests;

/// <summary>The metrics of the real server after a workload: promtool-clean, the main counters move, loopback only.</summary>
public sealed partial class ObservabilityTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Scrape_after_a_workload_passes_promtool_and_the_main_counters_move()
    {
        var stunPort = TestPorts.GetFree();
        using var config = new TestServerConfig
        {
            Extra = $"policy:\n  mode: database\nderp:\n  server:\n    enabled: true\n    verify_clients: false\n    stun_listen_addr: 127.0.0.1:{stunPort}\n",
        };
        await using var server = await ServerProcess.StartAsync(config, Ct);
        using var metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.MetricsPort}") };
        var before = Parse(await metrics.GetStringAsync("/metrics", Ct));

        using var local = ManagementClientConnection.Open(new ManagementClientOptions(null, null, false, config.SocketPath, TimeSpan.FromSeconds(60)));
        var user = (await local.Client.CreateUserAsync(new CreateUserRequest { Name = "metrics-user" }, cancellationToken: Ct)).User;
        await RegisterAndStreamAsync(local, user, config, server, metrics);
        var missing = await Assert.ThrowsAsync<Grpc.Core.RpcException>(() => local.Client.GetNodeAsync(new GetNodeRequest { NodeId = 999_999 }, cancellationToken: Ct).ResponseAsync);
        var key = (await local.Client.CreateApiKeyAsync(new CreateApiKeyRequest { Expiration = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(1)) }, cancellationToken: Ct)).ApiKey;
        using (var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/user"))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            using var listed = await server.Http.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.OK, listed.StatusCode);
        }

        using (var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/user"))
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key[..^3] + "zzz");
            using var refused = await server.Http.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }

        await server.Http.GetStringAsync("/health", Ct);
        await StunBindingAsync(stunPort);
        await RelayThroughDerpAsync(server);
        var health = await CliProcess.RunAsync(config.Directory, Ct, "health", "-c", config.ConfigPath);
        Assert.True(health.ExitCode == 0 && health.Stdout.Contains("healthy: the database is reachable", StringComparison.Ordinal), health.Stdout + health.Stderr);
        var text = await metrics.GetStringAsync("/metrics", Ct);
        var after = Parse(text);

        var check = await PromtoolCheckAsync(text);
        Assert.True(check.ExitCode == 0 && check.Output.Length == 0, $"promtool check metrics: exit {check.ExitCode}\n{check.Output}");

        AssertMoved(before, after, """headscale_http_requests_total{code="200",method="GET",path="/api/v1/user"}""");
        AssertMoved(before, after, """headscale_http_requests_total{code="401",method="GET",path="/api/v1/user"}""");
        AssertMoved(before, after, """headscale_grpc_calls_total{method="CreateUser",code="OK"}""");
        AssertMoved(before, after, """headscale_grpc_calls_total{method="ListUsers",code="OK"}""");
        Assert.NotEqual(Grpc.Core.StatusCode.OK, missing.StatusCode);
        AssertMoved(before, after, $$"""headscale_grpc_calls_total{method="GetNode",code="{{missing.StatusCode}}"}""");
        AssertMoved(before, after, """headscale_api_authentication_failures_total{reason="wrong-secret"}""");
        AssertMoved(before, after, "headscale_journal_write_duration_seconds_count");
        AssertMoved(before, after, """headscale_registrations_total{method="preauthkey",result="ok"}""");
        AssertMoved(before, after, """headscale_registrations_total{method="preauthkey",result="error"}""");
        AssertMoved(before, after, """headscale_registrations_total{method="logout",result="logged_out"}""");
        Assert.Equal(0, after["""headscale_journal_write_failures_total{reason="failed"}"""]);
        Assert.Equal(0, after["""headscale_journal_write_failures_total{reason="rejected"}"""]);
        AssertFamilyMoved(before, after, "headscale_mapresponse_sent_total");
        AssertMoved(before, after, "headscale_networkmap_apply_duration_seconds_count");
        AssertMoved(before, after, "headscale_policy_compile_duration_seconds_count");
        AssertMoved(before, after, """headscale_derp_stun_requests_total{result="answered"}""");
        AssertMoved(before, after, "headscale_derp_accepts_total");
        AssertMoved(before, after, "headscale_derp_packets_received_total");
        AssertMoved(before, after, "headscale_derp_packets_sent_total");
        AssertMoved(before, after, "headscale_derp_bytes_received_total");
        AssertMoved(before, after, "headscale_derp_bytes_sent_total");
        AssertFamilyMoved(before, after, "headscale_derp_packets_dropped_total");
        Assert.Equal(1, after["""headscale_cluster_members{status="up"}"""]);
        Assert.Equal(0, after["""headscale_cluster_members{status="joining"}"""]);
        // The registered nodes run as sharded entities on this member.
        Assert.Contains(after, s => s.Key.StartsWith("headscale_cluster_shards{type=", StringComparison.Ordinal) && s.Value >= 1);
        Assert.Contains(after, s => s.Key.StartsWith("headscale_cluster_shard_entities{type=", StringComparison.Ordinal) && s.Value >= 1);
        Assert.True(after["headscale_nodes"] >= 1, "headscale_nodes counts the registered nodes");
        foreach (var process in new[] { "process_cpu_seconds_total", "process_working_set_bytes", "process_open_handles", "process_num_threads", "process_start_time_seconds" })
        {
            Assert.True(after.ContainsKey(process), $"{process} is missing from the scrape");
        }

        var runtimeMissing = new[] { "dotnet_gc_heap_allocated_bytes_total", "dotnet_gc_collections_total", "dotnet_gc_pause_seconds_total", "dotnet_threadpool_threads", "dotnet_exceptions_total" }
            .Where(runtime => !after.Keys.Any(k => k == runtime || k.StartsWith(runtime + "{", StringComparison.Ordinal)))
            .ToList();
        Assert.True(runtimeMissing.Count == 0, "missing from the scrape: " + string.Join(", ", runtimeMissing) + "\n"
            + string.Join("\n", after.Keys.Where(k => k.StartsWith("dotnet_", StringComparison.Ordinal))));

        // No database pool metrics on SQLite: Microsoft.Data.Sqlite publishes none (docs/observability.md).
        Assert.DoesNotContain(after.Keys, k => k.StartsWith("headscale_db_", StringComparison.Ordinal));
        Assert.DoesNotContain("metrics-user", text);
        Assert.DoesNotContain(key, text);
        // One log line per request with the route template, the status and the duration.
        Assert.Matches(@"GET /api/v1/user 401 \d+\.\dms", server.Output);
    }

    [Fact]
    public async Task Metrics_on_the_default_loopback_address_are_not_reachable_from_another_address()
    {
        var other = NetworkInterface.GetAllNetworkInterfaces()
            .Where(n => n.OperationalStatus == OperationalStatus.Up)
            .SelectMany(n => n.GetIPProperties().UnicastAddresses)
            .Select(a => a.Address)
            .FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork && !IPAddress.IsLoopback(a));
        Assert.SkipWhen(other is null, "this machine has no non-loopback IPv4 address to connect from");

        using var config = new TestServerConfig();
        await using var server = await ServerProcess.StartAsync(config, Ct);

        using (var loopback = new TcpClient())
        {
            await loopback.ConnectAsync(IPAddress.Loopback, server.MetricsPort, Ct);
        }

        using var outside = new TcpClient();
        var refused = await Assert.ThrowsAsync<SocketException>(async () => await outside.ConnectAsync(other!, server.MetricsPort, Ct));
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
    }

    /// <summary>
    /// Two DERP clients exchange a packet through the embedded server, after one to a key nobody
    /// holds (dropped): the server handles a connection's frames in order, so the drop is counted
    /// by the time the second packet arrives.
    /// </summary>
    private static async Task RelayThroughDerpAsync(ServerProcess server)
    {
        var url = new Uri($"http://127.0.0.1:{server.Port}/derp");
        await using var a = await Headscale.Derp.Client.DerpClient.ConnectAsync(url, Headscale.Derp.Keys.DerpPrivateKey.Generate(), cancellationToken: Ct);
        await using var b = await Headscale.Derp.Client.DerpClient.ConnectAsync(url, Headscale.Derp.Keys.DerpPrivateKey.Generate(), cancellationToken: Ct);
        var packet = new byte[1200];
        Random.Shared.NextBytes(packet);
        await a.SendPacketAsync(Headscale.Derp.Keys.DerpPrivateKey.Generate().PublicKey, packet, Ct);
        await a.SendPacketAsync(b.PublicKey, packet, Ct);
        var buffer = new byte[Headscale.Derp.Protocol.DerpConstants.MaxPacketSize];
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        Headscale.Derp.Client.DerpReceived received;
        do
        {
            received = await b.ReceiveAsync(buffer, timeout.Token);
        }
        while (received.Type != Headscale.Derp.Protocol.DerpFrameType.RecvPacket);

        Assert.Equal(packet, buffer[..received.Length]);
    }

    /// <summary>One STUN binding request to the embedded DERP server's STUN port, answered.</summary>
    private static async Task StunBindingAsync(int port)
    {
        using var udp = new UdpClient(AddressFamily.InterNetwork);
        var request = new byte[64];
        var transaction = System.Security.Cryptography.RandomNumberGenerator.GetBytes(Headscale.Derp.Stun.StunMessage.TransactionIdLength);
        var length = Headscale.Derp.Stun.StunMessage.WriteBindingRequest(request, transaction);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(20));
        await udp.SendAsync(request.AsMemory(0, length), new IPEndPoint(IPAddress.Loopback, port), timeout.Token);
        var answer = await udp.ReceiveAsync(timeout.Token);
        Assert.True(answer.Buffer.Length > Headscale.Derp.Stun.StunMessage.HeaderLength);
    }

    /// <summary>
    /// Over ts2021: a refused and an accepted registration (the journal is written for the latter),
    /// a second node that reads its full map while a policy is set (the map and policy metrics
    /// move), and a logout.
    /// </summary>
    private static async Task RegisterAndStreamAsync(ManagementClientConnection local, User user, TestServerConfig config, ServerProcess server, HttpClient metrics)
    {
        var preAuthKey = (await local.Client.CreatePreAuthKeyAsync(new CreatePreAuthKeyRequest
        {
            User = user.Id,
            Reusable = true,
            Expiration = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(1)),
        }, cancellationToken: Ct)).PreAuthKey.Key;
        var url = new Uri($"http://127.0.0.1:{config.Port}");
        var noiseKey = await Headscale.Protocol.Client.Ts2021Client.FetchServerKeyAsync(server.Http, url, Headscale.Protocol.Client.ControlNode.DefaultCapabilityVersion, Ct);
        using var leaving = new Headscale.Protocol.Client.ControlNode(url, noiseKey, "metrics-leaving");
        var refused = await leaving.RegisterAsync(preAuthKey[..^4] + (preAuthKey.EndsWith("0000", StringComparison.Ordinal) ? "1111" : "0000"), Ct);
        Assert.False(refused.Succeeded, refused.RawBody);

        var beforeRegistration = Parse(await metrics.GetStringAsync("/metrics", Ct));
        var first = await leaving.RegisterAsync(preAuthKey, Ct);
        Assert.True(first.Succeeded, first.RawBody);
        var afterRegistration = Parse(await metrics.GetStringAsync("/metrics", Ct));
        // The node, its registry entry and the key's use are stored before the client is answered.
        AssertMoved(beforeRegistration, afterRegistration, "headscale_journal_write_duration_seconds_count");
        AssertMoved(beforeRegistration, afterRegistration, """headscale_registrations_total{method="preauthkey",result="ok"}""");

        using var node = new Headscale.Protocol.Client.ControlNode(url, noiseKey, "metrics-node");
        var registered = await node.RegisterAsync(preAuthKey, Ct);
        Assert.True(registered.Succeeded, registered.RawBody);
        await using var stream = await node.StreamMapAsync(Ct);
        Assert.NotNull(await stream.ReadAsync(Ct));
        await local.Client.SetPolicyAsync(new SetPolicyRequest { Policy = """{"acls":[{"action":"accept","src":["*"],"dst":["*:443"]}]}""" }, cancellationToken: Ct);
        // Once the new filter has arrived, the map has compiled the policy and applied the change.
        await stream.ReadUntilAsync(f => f["PacketFilter"] is not null || f["PacketFilters"] is not null, Ct).WaitAsync(TimeSpan.FromSeconds(45), Ct);
        var loggedOut = await leaving.LogoutAsync(Ct);
        Assert.True(loggedOut.NodeKeyExpired, loggedOut.RawBody);
    }

    private static void AssertFamilyMoved(Dictionary<string, double> before, Dictionary<string, double> after, string family)
    {
        static double Sum(Dictionary<string, double> samples, string family) =>
            samples.Where(s => s.Key == family || s.Key.StartsWith(family + "{", StringComparison.Ordinal)).Sum(s => s.Value);
        Assert.True(Sum(after, family) > Sum(before, family), $"{family} did not move: {Sum(before, family)} -> {Sum(after, family)}");
    }

    private static void AssertMoved(Dictionary<string, double> before, Dictionary<string, double> after, string series)
    {
        Assert.True(after.TryGetValue(series, out var now), $"{series} is missing from the scrape");
        Assert.True(now > before.GetValueOrDefault(series), $"{series} did not move: {before.GetValueOrDefault(series)} -> {now}");
    }

    /// <summary>Sample lines as series → value (comments skipped).</summary>
    internal static Dictionary<string, double> Parse(string exposition)
    {
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in exposition.Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var match = SampleLine().Match(line);
            if (match.Success)
            {
                samples[match.Groups["series"].Value] = double.Parse(match.Groups["value"].Value, CultureInfo.InvariantCulture);
            }
        }

        return samples;
    }

    internal static async Task<(int ExitCode, string Output)> PromtoolCheckAsync(string exposition)
    {
        var start = new ProcessStartInfo("promtool", "check metrics")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("promtool is needed (Debian: apt-get install prometheus; test.sh installs it)", e);
        }

        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync(Ct);
            var stderr = process.StandardError.ReadToEndAsync(Ct);
            await process.StandardInput.WriteAsync(exposition);
            process.StandardInput.Close();
            await process.WaitForExitAsync(Ct);
            return (process.ExitCode, ((await stdout) + (await stderr)).Trim());
        }
    }

    [GeneratedRegex("""^(?<series>[a-zA-Z_:][a-zA-Z0-9_:]*(\{.*\})?) (?<value>\S+)$""")]
    private static partial Regex SampleLine();
}
