using System.Net;
using System.Net.Sockets;
using Headscale.Derp.Protocol;

namespace Headscale.Derp.Tests;

/// <summary>
/// Two real DERP hosts meshed through <c>AddDerpServer(MeshWith, MeshKey)</c>: each dials the other as a mesh peer, so a
/// client of host 1 reaches a client of host 2 and back.
/// </summary>
public sealed class MeshTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private static string NewMeshKey() => Convert.ToHexStringLower(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    /// <summary>A loopback port that was free a moment ago, so host 2 can be told host 1's URL before host 1 starts.</summary>
    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<(DerpTestHost One, DerpTestHost Two)> StartMeshAsync(string meshKey)
    {
        var portOne = FreePort();
        var two = await DerpTestHost.StartAsync(0, o =>
        {
            o.MeshKey = meshKey;
            o.MeshWith = [$"http://127.0.0.1:{portOne}/derp"];
        }, null);
        var one = await DerpTestHost.StartAsync(portOne, o =>
        {
            o.MeshKey = meshKey;
            o.MeshWith = [two.DerpUrl.ToString()];
        }, null);
        return (one, two);
    }

    [Fact]
    public async Task A_client_on_host_one_reaches_a_client_on_host_two_and_back()
    {
        var (one, two) = await StartMeshAsync(NewMeshKey());
        await using var hostOne = one;
        await using var hostTwo = two;
        await using var alice = await hostOne.ConnectAsync();
        await using var bob = await hostTwo.ConnectAsync(webSocket: true);

        await TestWait.UntilAsync(() => hostOne.Server.IsReachableViaMesh(bob.PublicKey), "host 1 learns bob is on host 2");
        await TestWait.UntilAsync(() => hostTwo.Server.IsReachableViaMesh(alice.PublicKey), "host 2 learns alice is on host 1");

        var buffer = new byte[DerpConstants.MaxPacketSize];
        for (var i = 0; i < 20; i++)
        {
            var packet = new byte[100 + i];
            Random.Shared.NextBytes(packet);
            await alice.SendPacketAsync(bob.PublicKey, packet, Ct);
            var received = await TestWait.ReceiveAsync(bob, DerpFrameType.RecvPacket, buffer);
            Assert.Equal(alice.PublicKey, received.Key);
            Assert.Equal(packet, buffer[..received.Length]);
        }

        await bob.SendPacketAsync(alice.PublicKey, "reply"u8.ToArray(), Ct);
        var reply = await TestWait.ReceiveAsync(alice, DerpFrameType.RecvPacket, buffer);
        Assert.Equal(bob.PublicKey, reply.Key);
        Assert.Equal("reply"u8.ToArray(), buffer[..reply.Length]);

        // Each host is connected to the other as a mesh peer under the other's server key.
        Assert.True(hostOne.Server.IsConnected(hostTwo.Server.PublicKey));
        Assert.True(hostTwo.Server.IsConnected(hostOne.Server.PublicKey));
    }

    [Fact]
    public async Task A_client_leaving_host_two_is_forgotten_by_host_one()
    {
        var (one, two) = await StartMeshAsync(NewMeshKey());
        await using var hostOne = one;
        await using var hostTwo = two;
        var bob = await hostTwo.ConnectAsync();
        var bobKey = bob.PublicKey;
        await TestWait.UntilAsync(() => hostOne.Server.IsReachableViaMesh(bobKey), "host 1 learns bob is on host 2");

        await bob.DisposeAsync();
        await TestWait.UntilAsync(() => !hostOne.Server.IsReachableViaMesh(bobKey), "host 1 forgets bob after PeerGone");

        // A disco packet to the departed client now gets NotHere from host 1 itself.
        await using var alice = await hostOne.ConnectAsync();
        var disco = new byte[DerpConstants.MinDiscoPacketLength + 4];
        DerpConstants.DiscoMagic.CopyTo(disco);
        await alice.SendPacketAsync(bobKey, disco, Ct);
        var gone = await TestWait.ReceiveAsync(alice, DerpFrameType.PeerGone, new byte[64]);
        Assert.Equal(bobKey, gone.Key);
        Assert.Equal(PeerGoneReason.NotHere, gone.Reason);
    }

    [Fact]
    public async Task Mesh_with_needs_a_mesh_key()
    {
        var error = await Assert.ThrowsAsync<ArgumentException>(() => DerpTestHost.StartAsync(o => o.MeshWith = ["http://127.0.0.1:1/derp"]));
        Assert.Contains("mesh key", error.Message);
    }
}
