using Headscale.Derp.Client;
using Headscale.Derp.Keys;
using Headscale.Derp.Protocol;
using Headscale.Derp.Server;

namespace Headscale.Derp.Tests;

public sealed class VerifyClientsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static readonly string MeshKey = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    [Fact]
    public async Task Only_allowed_node_keys_connect_and_revocation_closes_connected_clients()
    {
        var alice = DerpPrivateKey.Generate();
        var bob = DerpPrivateKey.Generate();
        var verifier = new StaticDerpClientVerifier([alice.PublicKey, bob.PublicKey]);
        await using var host = await DerpTestHost.StartAsync(verifier: verifier);

        await using var a = await host.ConnectAsync(alice);
        await using var b = await host.ConnectAsync(bob);
        await Assert.ThrowsAsync<DerpProtocolException>(() => host.ConnectAsync());

        var buffer = new byte[64];
        await a.SendPacketAsync(bob.PublicKey, new byte[] { 9 }, Ct);
        Assert.Equal(1, (await TestWait.ReceiveAsync(b, DerpFrameType.RecvPacket, buffer)).Length);

        verifier.Revoke(bob.PublicKey);
        var error = await Record.ExceptionAsync(async () =>
        {
            while (true) await b.ReceiveAsync(buffer, Ct);
        });
        Assert.True(error is EndOfStreamException or IOException, $"revoked client should be disconnected, got {error}");
        await TestWait.UntilAsync(() => !host.Server.IsConnected(bob.PublicKey), "bob is unregistered");
        Assert.True(host.Server.IsConnected(alice.PublicKey));
        await Assert.ThrowsAsync<DerpProtocolException>(() => host.ConnectAsync(bob));
    }

    [Fact]
    public async Task Verify_clients_without_a_verifier_fails_at_startup()
    {
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => DerpTestHost.StartAsync(o => o.VerifyClients = true));
        Assert.Contains("IDerpClientVerifier", error.Message);
    }

    [Fact]
    public async Task A_mesh_peer_skips_verification_and_a_wrong_mesh_key_is_a_regular_client()
    {
        var verifier = new StaticDerpClientVerifier();
        var wrongKeyClient = DerpPrivateKey.Generate();
        verifier.Allow(wrongKeyClient.PublicKey);
        await using var host = await DerpTestHost.StartAsync(o => o.MeshKey = MeshKey, verifier);

        await using var peer = await host.ConnectAsync(options: new DerpClientOptions { MeshKey = MeshKey });
        await peer.WatchConnsAsync(Ct);
        var present = await TestWait.ReceiveAsync(peer, DerpFrameType.PeerPresent, new byte[64]);
        Assert.Equal(peer.PublicKey, present.Key);
        Assert.Equal(PeerPresentFlags.MeshPeer, present.Flags);

        var wrongMeshKey = Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        await using var impostor = await host.ConnectAsync(wrongKeyClient, options: new DerpClientOptions { MeshKey = wrongMeshKey });
        await impostor.WatchConnsAsync(Ct);
        var error = await Record.ExceptionAsync(async () =>
        {
            while (true) await impostor.ReceiveAsync(new byte[64], Ct);
        });
        Assert.True(error is EndOfStreamException or IOException);
    }
}
