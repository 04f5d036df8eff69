using System.Diagnostics.Metrics;
using System.Text;
using Headscale.Derp.Client;
using Headscale.Derp.Keys;
using Headscale.Derp.Protocol;
using Headscale.Derp.Server;

namespace Headscale.Derp.Tests;

/// <summary>Each bad connection is closed (or dropped to) alone; a healthy pair keeps flowing; nothing stays registered.</summary>
public sealed class BadInputTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task AssertPairStillFlowsAsync(DerpClient a, DerpClient b)
    {
        var buffer = new byte[2048];
        var packet = Encoding.ASCII.GetBytes("still flowing " + Guid.NewGuid());
        await a.SendPacketAsync(b.PublicKey, packet, Ct);
        DerpReceived received;
        do received = await TestWait.ReceiveAsync(b, DerpFrameType.RecvPacket, buffer);
        while (!buffer.AsSpan(0, received.Length).SequenceEqual(packet));
        Assert.Equal(a.PublicKey, received.Key);
    }

    private static async Task AssertClosedByServerAsync(DerpClient client)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TestWait.Timeout);
        var buffer = new byte[DerpConstants.MaxPacketSize];
        var error = await Record.ExceptionAsync(async () =>
        {
            while (true) await client.ReceiveAsync(buffer, cts.Token);
        });
        Assert.True(error is EndOfStreamException or IOException or System.Net.WebSockets.WebSocketException, $"expected the server to close the connection, got {error}");
    }

    [Fact]
    public async Task Garbage_before_the_upgrade_gets_400_and_only_that_connection_closes()
    {
        await using var host = await DerpTestHost.StartAsync();
        await using var a = await host.ConnectAsync();
        await using var b = await host.ConnectAsync();

        await using var raw = await RawDerpConnection.OpenAsync(host.Port);
        await raw.WriteAsync([0x16, 0x03, 0x01, 0x00, 0xff, .. "garbage\r\n\r\n"u8.ToArray()]);
        var answer = Encoding.ASCII.GetString(await raw.ReadToEndAsync());
        Assert.StartsWith("HTTP/1.1 400", answer);

        await AssertPairStillFlowsAsync(a, b);
        Assert.Equal(2, host.Server.ConnectionCount);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task An_oversized_frame_closes_only_that_connection(bool overWebSocket)
    {
        await using var host = await DerpTestHost.StartAsync();
        await using var a = await host.ConnectAsync();
        await using var b = await host.ConnectAsync(webSocket: true);
        await using var bad = await host.ConnectAsync(webSocket: overWebSocket);

        await bad.WriteRawAsync(new byte[] { 0x04, 0x7f, 0xff, 0xff, 0xff }, Ct);
        await AssertClosedByServerAsync(bad);

        await AssertPairStillFlowsAsync(a, b);
        await TestWait.UntilAsync(() => host.Server.ConnectionCount == 2 && !host.Server.IsConnected(bad.PublicKey), "the bad client is unregistered");
    }

    [Fact]
    public async Task A_send_packet_above_64KiB_closes_only_that_connection()
    {
        await using var host = await DerpTestHost.StartAsync();
        await using var a = await host.ConnectAsync();
        await using var b = await host.ConnectAsync();
        await using var bad = await host.ConnectAsync();

        var frame = new byte[5 + 32 + DerpConstants.MaxPacketSize + 1];
        DerpFrameWriter.WriteHeader(frame, DerpFrameType.SendPacket, frame.Length - 5);
        b.PublicKey.CopyTo(frame.AsSpan(5));
        await bad.WriteRawAsync(frame, Ct);
        await AssertClosedByServerAsync(bad);
        await AssertPairStillFlowsAsync(a, b);
        await TestWait.UntilAsync(() => host.Server.ConnectionCount == 2 && !host.Server.IsConnected(bad.PublicKey), "the bad client is unregistered");
    }

    [Fact]
    public async Task An_unknown_frame_type_is_skipped_and_the_connection_keeps_working()
    {
        await using var host = await DerpTestHost.StartAsync();
        await using var a = await host.ConnectAsync();
        await using var b = await host.ConnectAsync();

        await a.WriteRawAsync(new byte[] { 0x7e, 0, 0, 0, 3, 1, 2, 3 }, Ct);
        await AssertPairStillFlowsAsync(a, b);
        await a.PingAsync(42, Ct);
        Assert.Equal(42UL, (await TestWait.ReceiveAsync(a, DerpFrameType.Pong, new byte[16])).Data);
        Assert.Equal(2, host.Server.ConnectionCount);
    }

    [Fact]
    public async Task A_client_that_never_sends_client_info_is_closed_after_the_handshake_timeout()
    {
        await using var host = await DerpTestHost.StartAsync(o => o.HandshakeTimeout = TimeSpan.FromSeconds(2));
        await using var a = await host.ConnectAsync();
        await using var b = await host.ConnectAsync();

        await using var raw = await RawDerpConnection.OpenAsync(host.Port);
        await raw.UpgradeAsync();
        Assert.Equal(DerpFrameType.ServerKey, (await raw.ReadFrameAsync()).Type);
        Assert.Empty(await raw.ReadToEndAsync());

        await AssertPairStillFlowsAsync(a, b);
        Assert.Equal(2, host.Server.ConnectionCount);
    }

    [Fact]
    public async Task A_send_packet_shorter_than_a_key_closes_only_that_connection()
    {
        await using var host = await DerpTestHost.StartAsync();
        await using var a = await host.ConnectAsync();
        await using var b = await host.ConnectAsync();
        await using var bad = await host.ConnectAsync();

        await bad.WriteRawAsync(new byte[] { 0x04, 0, 0, 0, 4, 1, 2, 3, 4 }, Ct);
        await AssertClosedByServerAsync(bad);
        await AssertPairStillFlowsAsync(a, b);
        await TestWait.UntilAsync(() => host.Server.ConnectionCount == 2, "the bad client is unregistered");
    }

    [Fact]
    public async Task Garbage_after_the_upgrade_instead_of_client_info_closes_only_that_connection()
    {
        await using var host = await DerpTestHost.StartAsync();
        await using var a = await host.ConnectAsync();
        await using var b = await host.ConnectAsync();

        await using var raw = await RawDerpConnection.OpenAsync(host.Port);
        await raw.UpgradeAsync();
        await raw.ReadFrameAsync();
        await raw.WriteAsync(Encoding.ASCII.GetBytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n"));
        Assert.Empty(await raw.ReadToEndAsync());

        await AssertPairStillFlowsAsync(a, b);
        Assert.Equal(2, host.Server.ConnectionCount);
    }

    [Theory]
    [InlineData("bad-box")]
    [InlineData("short")]
    [InlineData("not-client-info")]
    public async Task A_bad_client_info_closes_the_connection_before_registration(string variant)
    {
        await using var host = await DerpTestHost.StartAsync();
        await using var a = await host.ConnectAsync();
        await using var b = await host.ConnectAsync();

        await using var raw = await RawDerpConnection.OpenAsync(host.Port);
        await raw.UpgradeAsync();
        var (type, _) = await raw.ReadFrameAsync();
        Assert.Equal(DerpFrameType.ServerKey, type);

        var attacker = DerpPrivateKey.Generate().PublicKey;
        byte[] payload = variant switch
        {
            "bad-box" => [.. attacker.ToArray(), .. new byte[24], .. Enumerable.Repeat((byte)0x5a, 40)],
            "short" => new byte[40],
            _ => [.. attacker.ToArray(), 1, 2, 3],
        };
        var frame = new byte[5 + payload.Length];
        DerpFrameWriter.WriteHeader(frame, variant == "not-client-info" ? DerpFrameType.SendPacket : DerpFrameType.ClientInfo, payload.Length);
        payload.CopyTo(frame, 5);
        await raw.WriteAsync(frame);

        Assert.Empty(await raw.ReadToEndAsync());
        Assert.False(host.Server.IsConnected(attacker));
        await AssertPairStillFlowsAsync(a, b);
        Assert.Equal(2, host.Server.ConnectionCount);
    }

    [Fact]
    public async Task Mesh_only_frames_from_a_regular_client_close_it()
    {
        await using var host = await DerpTestHost.StartAsync();
        await using var a = await host.ConnectAsync();
        await using var b = await host.ConnectAsync();
        await using var bad = await host.ConnectAsync();

        await bad.WatchConnsAsync(Ct);
        await AssertClosedByServerAsync(bad);
        await AssertPairStillFlowsAsync(a, b);
    }

    [Fact]
    public async Task A_note_preferred_of_the_wrong_size_closes_the_connection()
    {
        await using var host = await DerpTestHost.StartAsync();
        await using var bad = await host.ConnectAsync();
        await bad.WriteRawAsync(new byte[] { 0x07, 0, 0, 0, 2, 1, 1 }, Ct);
        await AssertClosedByServerAsync(bad);
        await TestWait.UntilAsync(() => host.Server.ConnectionCount == 0, "the client is unregistered");
    }

    [Fact]
    public async Task A_client_that_stops_reading_is_dropped_to_then_closed_while_others_flow()
    {
        long queueFullDrops = 0;
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == DerpMetrics.MeterName && instrument.Name == "packets_dropped")
                l.EnableMeasurementEvents(instrument);
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
                if (tag is { Key: "reason", Value: "queue_full" }) Interlocked.Add(ref queueFullDrops, value);
        });
        listener.Start();

        await using var host = await DerpTestHost.StartAsync(o =>
        {
            o.WriteTimeout = TimeSpan.FromMilliseconds(300);
            o.HousekeepingInterval = TimeSpan.FromMilliseconds(50);
        });
        await using var a = await host.ConnectAsync();
        await using var b = await host.ConnectAsync();
        await using var flooder = await host.ConnectAsync();
        await using var stuck = await host.ConnectAsync();

        var big = new byte[DerpConstants.MaxPacketSize];
        var deadline = DateTime.UtcNow + TestWait.Timeout;
        while (host.Server.IsConnected(stuck.PublicKey))
        {
            Assert.True(DateTime.UtcNow < deadline, "the stuck client was never closed");
            await flooder.SendPacketAsync(stuck.PublicKey, big, Ct);
        }

        Assert.True(Interlocked.Read(ref queueFullDrops) > 0, "drops to the stuck client are counted as queue_full");
        await AssertPairStillFlowsAsync(a, b);
        Assert.True(host.Server.IsConnected(flooder.PublicKey));
        Assert.Equal(3, host.Server.ConnectionCount);
    }
}
