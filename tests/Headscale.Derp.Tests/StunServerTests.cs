using System.Net;
using System.Net.Sockets;
using Headscale.Derp.Stun;

namespace Headscale.Derp.Tests;

/// <summary>The STUN responder on a real UDP socket: answers Binding Requests with the sender's address, ignores the rest.</summary>
public sealed class StunServerTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private readonly CancellationTokenSource _stop = new();
    private StunServer _server = null!;
    private Task _run = Task.CompletedTask;

    public ValueTask InitializeAsync()
    {
        _server = new StunServer(StunServer.ParseListenAddress("127.0.0.1:0"));
        _run = _server.RunAsync(_stop.Token);
        return ValueTask.CompletedTask;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _server.DisposeAsync();
        await _run.WaitAsync(TestWait.Timeout);
        _stop.Dispose();
    }

    private static byte[] NewTransactionId() => System.Security.Cryptography.RandomNumberGenerator.GetBytes(StunMessage.TransactionIdLength);

    private static byte[] BindingRequest(byte[] transactionId)
    {
        var request = new byte[40];
        StunMessage.WriteBindingRequest(request, transactionId);
        return request;
    }

    private async Task<IPEndPoint> AskAsync(Socket socket, byte[] transactionId)
    {
        await socket.SendToAsync(BindingRequest(transactionId), SocketFlags.None, _server.LocalEndPoint, Ct);
        return await ReceiveMappedAsync(socket, transactionId);
    }

    /// <summary>Receives until a response for <paramref name="transactionId"/> arrives; a reply to anything else fails the test.</summary>
    private static async Task<IPEndPoint> ReceiveMappedAsync(Socket socket, byte[] transactionId)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TestWait.Timeout);
        var buffer = new byte[1500];
        var received = await socket.ReceiveAsync(buffer, SocketFlags.None, cts.Token);
        Assert.True(StunMessage.TryParseBindingResponse(buffer.AsSpan(0, received), transactionId, out var mapped),
            "the first datagram back must be the response to the good request (malformed ones get no reply)");
        return mapped!;
    }

    private static Socket NewClient(AddressFamily family = AddressFamily.InterNetwork)
    {
        var socket = new Socket(family, SocketType.Dgram, ProtocolType.Udp);
        socket.Bind(new IPEndPoint(family == AddressFamily.InterNetwork ? IPAddress.Loopback : IPAddress.IPv6Loopback, 0));
        return socket;
    }

    [Fact]
    public async Task A_binding_request_gets_the_senders_address_and_port_in_xor_mapped_address()
    {
        using var client = NewClient();
        var mapped = await AskAsync(client, NewTransactionId());
        Assert.Equal((IPEndPoint)client.LocalEndPoint!, mapped);
    }

    [Fact]
    public async Task The_response_is_byte_exact_for_ipv4()
    {
        using var client = NewClient();
        var transactionId = NewTransactionId();
        await client.SendToAsync(BindingRequest(transactionId), SocketFlags.None, _server.LocalEndPoint, Ct);
        var buffer = new byte[1500];
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TestWait.Timeout);
        var length = await client.ReceiveAsync(buffer, SocketFlags.None, cts.Token);

        var port = (ushort)((IPEndPoint)client.LocalEndPoint!).Port;
        byte[] expected =
        [
            0x01, 0x01, 0x00, 0x0c, 0x21, 0x12, 0xa4, 0x42, .. transactionId,
            0x00, 0x20, 0x00, 0x08, 0x00, 0x01,
            (byte)((port >> 8) ^ 0x21), (byte)((port & 0xff) ^ 0x12),
            127 ^ 0x21, 0 ^ 0x12, 0 ^ 0xa4, 1 ^ 0x42,
        ];
        Assert.Equal(expected, buffer[..length]);
    }

    [Fact]
    public async Task Two_senders_each_get_their_own_port()
    {
        using var first = NewClient();
        using var second = NewClient();
        Assert.Equal(((IPEndPoint)first.LocalEndPoint!).Port, (await AskAsync(first, NewTransactionId())).Port);
        Assert.Equal(((IPEndPoint)second.LocalEndPoint!).Port, (await AskAsync(second, NewTransactionId())).Port);
    }

    public static TheoryData<string> Malformed => ["empty", "short", "no-cookie", "not-a-request", "bad-length", "bad-fingerprint",
        "fingerprint-not-last", "truncated-attribute", "top-bits-set", "random"];

    [Theory]
    [MemberData(nameof(Malformed))]
    public async Task A_malformed_packet_gets_no_reply_and_the_next_good_request_is_answered(string variant)
    {
        using var client = NewClient();
        var id = NewTransactionId();
        var good = BindingRequest(id);
        byte[] bad = variant switch
        {
            "empty" => [],
            "short" => good[..19],
            "no-cookie" => Mutate(good, p => p[4] ^= 0xff),
            "not-a-request" => Mutate(good, p => p[1] = 0x11),
            "bad-length" => Mutate(good, p => p[3] = 24),
            "bad-fingerprint" => Mutate(good, p => p[39] ^= 1),
            "fingerprint-not-last" => Mutate([.. good, 0x80, 0x22, 0x00, 0x00], p => p[3] = 24),
            "truncated-attribute" => Mutate(good[..36], p => p[3] = 16),
            "top-bits-set" => Mutate(good, p => p[0] |= 0x80),
            _ => System.Security.Cryptography.RandomNumberGenerator.GetBytes(40),
        };

        // The malformed packet goes first on the same socket; if it were answered, that reply would be received first and
        // fail to match the good request's transaction id.
        await client.SendToAsync(bad, SocketFlags.None, _server.LocalEndPoint, Ct);
        var goodId = NewTransactionId();
        var mapped = await AskAsync(client, goodId);
        Assert.Equal((IPEndPoint)client.LocalEndPoint!, mapped);
    }

    [Fact]
    public async Task A_generic_binding_request_without_attributes_is_answered()
    {
        using var client = NewClient();
        var id = NewTransactionId();
        byte[] request = [0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, .. id];
        await client.SendToAsync(request, SocketFlags.None, _server.LocalEndPoint, Ct);
        Assert.Equal((IPEndPoint)client.LocalEndPoint!, await ReceiveMappedAsync(client, id));
    }

    [Theory]
    [InlineData("0.0.0.0")]
    [InlineData("3478")]
    [InlineData("example.com:3478")]
    [InlineData("")]
    public void A_listen_address_without_ip_and_port_is_rejected_with_the_key_name(string text)
    {
        var error = Assert.Throws<FormatException>(() => StunServer.ParseListenAddress(text));
        Assert.Contains("stun_listen_addr", error.Message);
    }

    private static byte[] Mutate(byte[] packet, Action<byte[]> change)
    {
        var copy = packet.ToArray();
        change(copy);
        return copy;
    }
}

/// <summary>STUN over IPv6 loopback (skipped where the machine has no IPv6).</summary>
public sealed class StunServerIPv6Tests
{
    [Fact]
    public async Task A_dual_mode_listener_answers_ipv6_senders_with_an_ipv6_address()
    {
        Assert.SkipUnless(Socket.OSSupportsIPv6, "no IPv6 on this machine");
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        await using var server = new StunServer(StunServer.ParseListenAddress("[::]:0"));
        var run = server.RunAsync(stop.Token);
        using var client = new Socket(AddressFamily.InterNetworkV6, SocketType.Dgram, ProtocolType.Udp);
        try
        {
            client.Bind(new IPEndPoint(IPAddress.IPv6Loopback, 0));
        }
        catch (SocketException)
        {
            Assert.Skip("IPv6 loopback is not configured");
        }
        var id = System.Security.Cryptography.RandomNumberGenerator.GetBytes(StunMessage.TransactionIdLength);
        var request = new byte[40];
        StunMessage.WriteBindingRequest(request, id);
        await client.SendToAsync(request, SocketFlags.None, new IPEndPoint(IPAddress.IPv6Loopback, server.LocalEndPoint.Port), stop.Token);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(stop.Token);
        timeout.CancelAfter(TestWait.Timeout);
        var buffer = new byte[1500];
        var length = await client.ReceiveAsync(buffer, SocketFlags.None, timeout.Token);
        Assert.True(StunMessage.TryParseBindingResponse(buffer.AsSpan(0, length), id, out var mapped));
        Assert.Equal((IPEndPoint)client.LocalEndPoint!, mapped);
        await stop.CancelAsync();
        await server.DisposeAsync();
        await run.WaitAsync(TestWait.Timeout, TestContext.Current.CancellationToken);
    }
}
