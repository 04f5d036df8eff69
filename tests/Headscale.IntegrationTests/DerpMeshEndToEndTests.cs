using System.Security.Cryptography;
using Headscale.Derp.Client;
using Headscale.Derp.Keys;
using Headscale.Derp.Protocol;
using Headscale.IntegrationTests.Support;

namespace Headscale.IntegrationTests;

/// <summary>
/// <c>derp.server.mesh_key_path</c> and <c>derp.server.mesh_with</c> in real server processes: two hosts (separate data
/// directories, not one Akka cluster) mesh their DERP servers, so a client of host 1 reaches a client of host 2.
/// </summary>
public sealed class DerpMeshEndToEndTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string NewMeshKey() => Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    /// <summary>DERP on, every client admitted, the mesh key in <c>mesh.key</c> and the given peers in mesh_with.</summary>
    private static void ConfigureMesh(TestServerConfig config, string keyFileText, params int[] meshPorts)
    {
        File.WriteAllText(Path.Combine(config.Directory, "mesh.key"), keyFileText);
        var meshWith = string.Concat(meshPorts.Select(p => $"\n          - http://127.0.0.1:{p}/derp"));
        config.Extra = $"""
            derp:
              server:
                enabled: true
                verify_clients: false
                stun_listen_addr: 127.0.0.1:{TestPorts.GetFree()}
                private_key_path: derp_server_private.key
                mesh_key_path: mesh.key
                mesh_with:{meshWith}

            """;
    }

    [Fact]
    public async Task A_client_of_host_one_reaches_a_client_of_host_two_through_the_mesh()
    {
        var meshKey = NewMeshKey();
        using var config1 = new TestServerConfig();
        using var config2 = new TestServerConfig();
        // The same list on both hosts, as a cluster's shared config would have: each finds itself by server key and skips it.
        ConfigureMesh(config1, $"  {meshKey}\n", config1.Port, config2.Port);
        ConfigureMesh(config2, meshKey + "\n", config1.Port, config2.Port);
        await using var host1 = await ServerProcess.StartAsync(config1, Ct);
        await using var host2 = await ServerProcess.StartAsync(config2, Ct);

        await using var a = await DerpClient.ConnectAsync(new Uri($"http://127.0.0.1:{host1.Port}/derp"), DerpPrivateKey.Generate(), cancellationToken: Ct);
        await using var b = await DerpClient.ConnectAsync(new Uri($"ws://127.0.0.1:{host2.Port}/derp"), DerpPrivateKey.Generate(), cancellationToken: Ct);
        Assert.NotEqual(a.ServerKey, b.ServerKey);

        await SendUntilReceivedAsync(a, b, host1, host2);
        await SendUntilReceivedAsync(b, a, host2, host1);
    }

    [Fact]
    public async Task A_client_with_a_wrong_mesh_key_is_not_a_mesh_peer_and_its_watch_request_closes_it()
    {
        var meshKey = NewMeshKey();
        using var config = new TestServerConfig();
        ConfigureMesh(config, meshKey, config.Port);
        await using var host = await ServerProcess.StartAsync(config, Ct);
        var url = new Uri($"http://127.0.0.1:{host.Port}/derp");
        var buffer = new byte[DerpConstants.MaxPacketSize];

        await using (var peer = await DerpClient.ConnectAsync(url, DerpPrivateKey.Generate(), new DerpClientOptions { MeshKey = meshKey }, Ct))
        {
            await peer.WatchConnsAsync(Ct);
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
            timeout.CancelAfter(Timeout);
            // The host's own mesh client (dialling the mesh list, which names this host) may be listed too, briefly.
            DerpReceived present;
            do
            {
                present = await ReceiveAsync(peer, DerpFrameType.PeerPresent, buffer, timeout.Token);
            }
            while (present.Key != peer.PublicKey);
            Assert.Equal(PeerPresentFlags.MeshPeer, present.Flags);
        }

        await using var impostor = await DerpClient.ConnectAsync(url, DerpPrivateKey.Generate(), new DerpClientOptions { MeshKey = NewMeshKey() }, Ct);
        await impostor.WatchConnsAsync(Ct);
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(Timeout);
        var error = await Record.ExceptionAsync(async () =>
        {
            while (true)
            {
                var frame = await impostor.ReceiveAsync(buffer, cts.Token);
                Assert.NotEqual(DerpFrameType.PeerPresent, frame.Type);
            }
        });
        Assert.True(error is EndOfStreamException or IOException, $"WatchConns with a wrong mesh key must close the connection, got {error}");
    }

    [Theory]
    [InlineData("not-a-key", "found 9 characters")]
    [InlineData("zz00000000000000000000000000000000000000000000000000000000000000", "not hex")]
    [InlineData("", "found 0 characters")]
    public async Task Serve_refuses_a_malformed_mesh_key_file_naming_the_key(string keyFileText, string expected)
    {
        using var config = new TestServerConfig();
        ConfigureMesh(config, keyFileText, TestPorts.GetFree());
        config.Write();

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TimeSpan.FromSeconds(90));
        var result = await CliProcess.RunAsync(config.Directory, cts.Token, "serve", "-c", config.ConfigPath);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("derp.server.mesh_key_path", result.Stderr);
        Assert.Contains(expected, result.Stderr);
        Assert.DoesNotContain(keyFileText.Length > 0 ? keyFileText : "\u0000", result.Stderr + result.Stdout);
    }

    [Fact]
    public async Task Configtest_names_mesh_with_when_it_has_no_key_or_a_bad_url()
    {
        using var config = new TestServerConfig();
        config.Extra = $"""
            derp:
              server:
                enabled: true
                stun_listen_addr: 127.0.0.1:{TestPorts.GetFree()}
                mesh_with:
                  - ftp://elsewhere/derp

            """;
        config.Write();

        var result = await CliProcess.RunAsync(config.Directory, Ct, "configtest", "-c", config.ConfigPath);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("derp.server.mesh_with: needs derp.server.mesh_key_path", result.Stderr);
        Assert.Contains("derp.server.mesh_with: DERP mesh peer 'ftp://elsewhere/derp'", result.Stderr);
    }

    [Fact]
    public async Task The_mesh_key_path_can_come_from_the_environment()
    {
        using var config = new TestServerConfig();
        var keyFile = Path.Combine(config.Directory, "elsewhere.key");
        File.WriteAllText(keyFile, "short");
        config.Extra = $"""
            derp:
              server:
                enabled: true
                stun_listen_addr: 127.0.0.1:{TestPorts.GetFree()}

            """;
        config.Write();

        var result = await CliProcess.RunAsync(config.Directory,
            new Dictionary<string, string> { ["HEADSCALE_DERP_SERVER_MESH_KEY_PATH"] = keyFile }, Ct, "configtest", "-c", config.ConfigPath);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"derp.server.mesh_key_path: file '{keyFile}' must hold the mesh key as 64 hex characters, found 5 characters", result.Stderr);
    }

    /// <summary>
    /// Sends from <paramref name="from"/> until <paramref name="to"/> receives it: the sending host forwards only once its
    /// mesh link to the other host announced the destination, which happens shortly after both connected. One receive
    /// runs throughout (cancelling a WebSocket read would abort the connection); the sends repeat on a timer until it ends.
    /// </summary>
    private static async Task SendUntilReceivedAsync(DerpClient from, DerpClient to, ServerProcess fromHost, ServerProcess toHost)
    {
        var buffer = new byte[DerpConstants.MaxPacketSize];
        var packet = RandomNumberGenerator.GetBytes(1200);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        deadline.CancelAfter(Timeout);
        var received = ReceiveAsync(to, DerpFrameType.RecvPacket, buffer, deadline.Token);
        using var resend = new PeriodicTimer(TimeSpan.FromMilliseconds(250));
        while (!received.IsCompleted)
        {
            await from.SendPacketAsync(to.PublicKey, packet, Ct);
            await Task.WhenAny(received, resend.WaitForNextTickAsync(Ct).AsTask());
        }

        try
        {
            var frame = await received;
            Assert.Equal(from.PublicKey, frame.Key);
            Assert.Equal(packet, buffer[..frame.Length]);
        }
        catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
        {
            Assert.Fail($"no packet crossed the mesh within {Timeout.TotalSeconds:0} s.\nsending host:\n{fromHost.Output}\nreceiving host:\n{toHost.Output}");
        }
    }

    private static async Task<DerpReceived> ReceiveAsync(DerpClient client, DerpFrameType type, Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            var frame = await client.ReceiveAsync(buffer, cancellationToken);
            if (frame.Type == type) return frame;
        }
    }
}
