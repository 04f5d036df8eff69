using System.Buffers;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Headscale.Derp.Client;
using Headscale.Derp.Keys;
using Headscale.Derp.Protocol;
using Headscale.IntegrationTests.ControlPlane;
using Headscale.IntegrationTests.Support;
using Headscale.Management.V1;
using Headscale.Protocol.Client;

namespace Headscale.IntegrationTests;

/// <summary>A control server with the embedded DERP relay and <c>verify_clients</c> on.</summary>
public sealed class DerpVerifyingControlServer : ControlServer
{
    protected override string ExtraConfig => $"""
        derp:
          server:
            enabled: true
            verify_clients: true
            stun_listen_addr: 127.0.0.1:{TestPorts.GetFree()}
            private_key_path: derp_server_private.key

        """;
}

/// <summary>
/// <c>verify_clients</c> on connected clients of the real server: deleting, expiring, logging out or rotating the key of a
/// node closes the DERP connection that node opened with its node key, and leaves the other clients connected.
/// </summary>
public sealed class DerpRevocationEndToEndTests(DerpVerifyingControlServer server) : IClassFixture<DerpVerifyingControlServer>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private Uri DerpUrl => new(server.Url, "/derp");

    [Fact]
    public async Task Deleting_a_node_closes_its_derp_connection_and_its_key_is_refused_afterwards()
    {
        var (victim, id) = await RegisteredDerpNodeAsync();
        await using var bystander = await ConnectedBystanderAsync();
        await using var connection = await DerpClient.ConnectAsync(DerpUrl, victim, cancellationToken: Ct);
        await AssertRelaysAsync(connection, bystander);

        await server.Admin.DeleteNodeAsync(new DeleteNodeRequest { NodeId = id }, cancellationToken: Ct);

        await AssertClosedAsync(connection, "after the node was deleted");
        await AssertStillConnectedAsync(bystander);
        await AssertRefusedAsync(victim);
    }

    [Fact]
    public async Task Expiring_a_node_now_closes_its_derp_connection()
    {
        var (victim, id) = await RegisteredDerpNodeAsync();
        await using var bystander = await ConnectedBystanderAsync();
        await using var connection = await DerpClient.ConnectAsync(DerpUrl, victim, cancellationToken: Ct);
        await AssertRelaysAsync(connection, bystander);

        await server.Admin.ExpireNodeAsync(new ExpireNodeRequest { NodeId = id }, cancellationToken: Ct);

        await AssertClosedAsync(connection, "after the node was expired");
        await AssertStillConnectedAsync(bystander);
        await AssertRefusedAsync(victim);
    }

    [Fact]
    public async Task A_key_expiry_set_in_the_future_closes_the_connection_when_it_passes()
    {
        var (victim, id) = await RegisteredDerpNodeAsync();
        await using var connection = await DerpClient.ConnectAsync(DerpUrl, victim, cancellationToken: Ct);

        // No event marks the moment an expiry passes: the relay's own expiry check must close the connection.
        var expiry = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddSeconds(3));
        await server.Admin.ExpireNodeAsync(new ExpireNodeRequest { NodeId = id, Expiry = expiry }, cancellationToken: Ct);

        await AssertClosedAsync(connection, "once the node's key expiry passed");
        Assert.True(DateTimeOffset.UtcNow >= expiry.ToDateTimeOffset(), "the connection closed before the expiry it was given");
        await AssertRefusedAsync(victim);
    }

    [Fact]
    public async Task Logging_out_closes_the_derp_connection()
    {
        var (victim, _, node) = await RegisteredDerpNodeWithClientAsync();
        using (node)
        {
            await using var connection = await DerpClient.ConnectAsync(DerpUrl, victim, cancellationToken: Ct);

            var logout = await RegisterRawAsync(node, victim.PublicKey, null, null, DateTimeOffset.FromUnixTimeSeconds(123));
            Assert.True(logout.NodeKeyExpired, logout.RawBody);

            await AssertClosedAsync(connection, "after the node logged out");
            await AssertRefusedAsync(victim);
        }
    }

    [Fact]
    public async Task Rotating_the_node_key_closes_the_connection_of_the_old_key_and_admits_the_new_one()
    {
        var (old, _, node) = await RegisteredDerpNodeWithClientAsync();
        using (node)
        {
            await using var bystander = await ConnectedBystanderAsync();
            await using var connection = await DerpClient.ConnectAsync(DerpUrl, old, cancellationToken: Ct);

            var rotated = DerpPrivateKey.Generate();
            var result = await RegisterRawAsync(node, rotated.PublicKey, old.PublicKey, node.AuthKeyForTests, null);
            Assert.True(result.Succeeded, result.RawBody);

            await AssertClosedAsync(connection, "after the node rotated its key");
            await AssertRefusedAsync(old);
            await using var renewed = await DerpClient.ConnectAsync(DerpUrl, rotated, cancellationToken: Ct);
            await AssertRelaysAsync(renewed, bystander);
        }
    }

    private async Task<DerpClient> ConnectedBystanderAsync()
    {
        var (key, _) = await RegisteredDerpNodeAsync();
        return await DerpClient.ConnectAsync(DerpUrl, key, cancellationToken: Ct);
    }

    private async Task<(DerpPrivateKey Key, ulong NodeId)> RegisteredDerpNodeAsync()
    {
        var (key, id, node) = await RegisteredDerpNodeWithClientAsync();
        node.Dispose();
        return (key, id);
    }

    /// <summary>
    /// Registers a node whose node key is a key pair this test holds, so a DERP client can prove it: the library's
    /// control node invents public keys only, hence the register request is written here.
    /// </summary>
    private async Task<(DerpPrivateKey Key, ulong NodeId, RawNode Node)> RegisteredDerpNodeWithClientAsync()
    {
        var user = await server.CreateUserAsync("derp");
        var authKey = await server.CreateKeyAsync(user, reusable: true);
        var node = new RawNode(server.NewNode(), authKey);
        var key = DerpPrivateKey.Generate();
        var result = await RegisterRawAsync(node, key.PublicKey, null, authKey, null);
        Assert.True(result.Succeeded, result.RawBody);
        var registered = await server.FindNodeAsync(key.PublicKey.ToString());
        Assert.NotNull(registered);
        return (key, registered.Id, node);
    }

    private static async Task<RegisterResult> RegisterRawAsync(RawNode node, DerpPublicKey nodeKey, DerpPublicKey? oldKey, string? authKey, DateTimeOffset? expiry)
    {
        var body = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(body))
        {
            json.WriteStartObject();
            json.WriteNumber("Version", ControlNode.DefaultCapabilityVersion);
            json.WriteString("NodeKey", nodeKey.ToString());
            json.WriteString("OldNodeKey", oldKey?.ToString() ?? "nodekey:" + new string('0', 64));
            if (authKey is not null)
            {
                json.WriteStartObject("Auth");
                json.WriteString("AuthKey", authKey);
                json.WriteEndObject();
            }

            json.WriteString("Expiry", expiry?.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture) ?? "0001-01-01T00:00:00Z");
            json.WriteStartObject("Hostinfo");
            json.WriteString("OS", "linux");
            json.WriteString("Hostname", node.Client.Hostname);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        var (status, text) = await node.Client.PostRawAsync("/machine/register", body.WrittenMemory, Ct);
        return RegisterResult.Parse(status, System.Text.Encoding.UTF8.GetBytes(text));
    }

    /// <summary>One packet each way between <paramref name="a"/> and <paramref name="b"/>.</summary>
    private static async Task AssertRelaysAsync(DerpClient a, DerpClient b)
    {
        var buffer = new byte[DerpConstants.MaxPacketSize];
        byte[] packet = [1, 2, 3];
        await a.SendPacketAsync(b.PublicKey, packet, Ct);
        var received = await ReceiveAsync(b, DerpFrameType.RecvPacket, buffer);
        Assert.Equal(a.PublicKey, received.Key);
        await b.SendPacketAsync(a.PublicKey, packet, Ct);
        received = await ReceiveAsync(a, DerpFrameType.RecvPacket, buffer);
        Assert.Equal(b.PublicKey, received.Key);
    }

    /// <summary>A ping answered proves the connection is still open.</summary>
    private static async Task AssertStillConnectedAsync(DerpClient client)
    {
        var data = (ulong)Random.Shared.NextInt64();
        await client.PingAsync(data, Ct);
        while (true)
        {
            var pong = await ReceiveAsync(client, DerpFrameType.Pong, new byte[DerpConstants.MaxPacketSize]);
            if (pong.Data == data) return;
        }
    }

    /// <summary>Reads until the server closes the connection; fails if it is still open after the timeout.</summary>
    private static async Task AssertClosedAsync(DerpClient client, string when)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(Timeout);
        var buffer = new byte[DerpConstants.MaxPacketSize];
        try
        {
            while (true) await client.ReceiveAsync(buffer, cts.Token);
        }
        catch (Exception e) when (e is EndOfStreamException or IOException)
        {
        }
        catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
        {
            Assert.Fail($"the DERP connection was still open {Timeout.TotalSeconds:0} s {when}");
        }
    }

    private async Task AssertRefusedAsync(DerpPrivateKey key)
    {
        var error = await Record.ExceptionAsync(() => DerpClient.ConnectAsync(DerpUrl, key, cancellationToken: Ct));
        Assert.True(error is DerpProtocolException or IOException,
            $"a revoked node key must not complete the DERP handshake, got {error?.GetType().Name ?? "a connection"}");
    }

    private static async Task<DerpReceived> ReceiveAsync(DerpClient client, DerpFrameType type, Memory<byte> buffer)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(Timeout);
        while (true)
        {
            var frame = await client.ReceiveAsync(buffer, cts.Token);
            if (frame.Type == type) return frame;
        }
    }

    /// <summary>A control connection (machine key, Noise transport) plus the reusable pre-auth key it registered with.</summary>
    private sealed class RawNode(ControlNode client, string authKey) : IDisposable
    {
        public ControlNode Client { get; } = client;

        public string AuthKeyForTests { get; } = authKey;

        public void Dispose() => Client.Dispose();
    }
}
