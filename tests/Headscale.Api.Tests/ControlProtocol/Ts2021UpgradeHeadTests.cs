using System.Buffers;
using System.Net;
using System.Text;
using Headscale.Api.ControlProtocol;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.HttpOverrides;

namespace Headscale.Api.Tests.ControlProtocol;

public sealed class Ts2021UpgradeHeadTests
{
    private static readonly string Initiation = Convert.ToBase64String(Enumerable.Range(0, 101).Select(static i => (byte)i).ToArray());

    private static string Head(params string[] fields) =>
        "POST /ts2021 HTTP/1.1\r\n" + string.Concat(fields.Select(static f => f + "\r\n")) + "\r\n";

    private static readonly string[] PlainFields =
    [
        "Host: control.example.com",
        "Upgrade: tailscale-control-protocol",
        "Connection: upgrade",
        $"X-Tailscale-Handshake: {Initiation}",
        "Content-Length: 0",
    ];

    private static UpgradeHeadOutcome Parse(string text, out Ts2021UpgradeHead head, out long consumed)
    {
        var buffer = new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(text));
        var outcome = Ts2021UpgradeHead.TryParse(buffer, out head, out var end);
        consumed = buffer.Slice(0, end).Length;
        return outcome;
    }

    [Fact]
    public void A_plain_upgrade_is_taken_with_its_initiation_and_ends_after_the_blank_line()
    {
        var head = Head(PlainFields);

        Assert.Equal(UpgradeHeadOutcome.Upgrade, Parse(head + "after", out var parsed, out var consumed));
        Assert.Equal(Convert.FromBase64String(Initiation), parsed.Initiation);
        Assert.Null(parsed.ForwardedFor);
        Assert.Equal(head.Length, consumed);
    }

    [Fact]
    public void A_proxy_s_forwarded_for_and_other_fields_in_any_case_are_accepted()
    {
        var text = Head(
            "host: control.example.com",
            "UPGRADE: Tailscale-Control-Protocol",
            "connection: keep-alive, Upgrade",
            "User-Agent: Go-http-client/1.1",
            $"x-tailscale-handshake:{Initiation}",
            "X-Forwarded-For: 198.51.100.7");

        Assert.Equal(UpgradeHeadOutcome.Upgrade, Parse(text, out var parsed, out _));
        Assert.Equal("198.51.100.7", parsed.ForwardedFor);
    }

    [Theory]
    [InlineData("")]
    [InlineData("POST /ts2")]
    [InlineData("POST /ts2021 HTTP/1.1\r\n")]
    [InlineData("POST /ts2021 HTTP/1.1\r\nHost: a\r\nUpgrade: tailscale-control-protocol\r\n")]
    public void A_head_that_has_not_ended_needs_more(string text)
    {
        Assert.Equal(UpgradeHeadOutcome.NeedMore, Parse(text, out _, out var consumed));
        Assert.Equal(0, consumed);
    }

    public static TheoryData<string, string> NotOurs() => new()
    {
        { "another request", "GET /key?v=142 HTTP/1.1\r\nHost: a\r\n\r\n" },
        { "another request, first bytes only", "GET /k" },
        { "the WebSocket variant", "GET /ts2021?X-Tailscale-Handshake=AAAA HTTP/1.1\r\nHost: a\r\n\r\n" },
        { "a query string", Head(PlainFields).Replace("/ts2021 ", "/ts2021?a=1 ", StringComparison.Ordinal) },
        { "HTTP/1.0", Head(PlainFields).Replace("HTTP/1.1", "HTTP/1.0", StringComparison.Ordinal) },
        { "no Host", Head(PlainFields[1..]) },
        { "another protocol", Head([PlainFields[0], "Upgrade: websocket", .. PlainFields[2..]]) },
        { "no Connection: upgrade", Head([.. PlainFields[..2], "Connection: keep-alive", .. PlainFields[3..]]) },
        { "no handshake", Head([.. PlainFields[..3], PlainFields[4]]) },
        { "an empty handshake", Head([.. PlainFields[..3], "X-Tailscale-Handshake: ", PlainFields[4]]) },
        { "a handshake that is not base64", Head([.. PlainFields[..3], "X-Tailscale-Handshake: not*base64!", PlainFields[4]]) },
        { "a body", Head([.. PlainFields[..4], "Content-Length: 5"]) + "hello" },
        { "a chunked body", Head([.. PlainFields[..4], "Transfer-Encoding: chunked"]) },
        { "a repeated field", Head([.. PlainFields, "Upgrade: tailscale-control-protocol"]) },
        { "a line without a colon", Head([.. PlainFields, "garbage"]) },
        { "white space before the colon", Head([.. PlainFields, "X-Extra : 1"]) },
        { "a folded line", Head([.. PlainFields, "X-Extra: 1", " folded"]) },
        { "a bare LF inside a line", Head([.. PlainFields, "X-Extra: 1\nX-Other: 2"]) },
    };

    [Theory]
    [MemberData(nameof(NotOurs))]
    public void Anything_else_is_left_to_the_http_server_unconsumed(string reason, string text)
    {
        Assert.True(Parse(text, out _, out var consumed) == UpgradeHeadOutcome.NotOurs, reason);
        Assert.Equal(0, consumed);
    }

    [Fact]
    public void A_head_longer_than_the_limit_is_left_to_the_http_server()
    {
        var padding = "X-Padding: " + new string('a', Ts2021UpgradeHead.MaxHeadBytes);

        Assert.Equal(UpgradeHeadOutcome.NotOurs, Parse(Head([.. PlainFields, padding]), out _, out _));
        Assert.Equal(UpgradeHeadOutcome.NotOurs, Parse(Head([.. PlainFields, padding])[..^4], out _, out _));
    }

    [Fact]
    public void A_head_split_over_buffer_segments_is_read_whole()
    {
        var bytes = Encoding.ASCII.GetBytes(Head(PlainFields));
        var first = new Segment(bytes.AsMemory(0, 7));
        var last = first.Append(bytes.AsMemory(7, 40)).Append(bytes.AsMemory(47));
        var buffer = new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);

        Assert.Equal(UpgradeHeadOutcome.Upgrade, Ts2021UpgradeHead.TryParse(buffer, out var parsed, out var end));
        Assert.Equal(Convert.FromBase64String(Initiation), parsed.Initiation);
        Assert.Equal(bytes.Length, buffer.Slice(0, end).Length);
    }

    private static ForwardedHeadersOptions TrustingLoopback(ForwardedHeaders headers = ForwardedHeaders.XForwardedFor)
    {
        var options = new ForwardedHeadersOptions { ForwardedHeaders = headers };
        options.KnownProxies.Clear();
        options.KnownIPNetworks.Clear();
        options.KnownIPNetworks.Add(System.Net.IPNetwork.Parse("127.0.0.0/8"));
        options.KnownProxies.Add(IPAddress.Parse("2001:db8::10"));
        return options;
    }

    [Theory]
    [InlineData("198.51.100.7", "198.51.100.7:0")]
    [InlineData("10.0.0.1, 198.51.100.7", "198.51.100.7:0")]
    [InlineData("198.51.100.7:4444", "198.51.100.7:4444")]
    [InlineData("2001:db8::7", "[2001:db8::7]:0")]
    [InlineData("[2001:db8::7]:4444", "[2001:db8::7]:4444")]
    [InlineData("not an address", "127.0.0.1:5555")]
    [InlineData("", "127.0.0.1:5555")]
    [InlineData(null, "127.0.0.1:5555")]
    public void A_trusted_proxy_s_last_forwarded_address_replaces_the_socket_s(string? header, string expected)
    {
        var socket = new IPEndPoint(IPAddress.Loopback, 5555);

        Assert.Equal(IPEndPoint.Parse(expected), new ForwardedFor(TrustingLoopback()).Apply(socket, header));
    }

    [Fact]
    public void Forwarded_addresses_are_believed_only_from_known_proxies_and_only_when_enabled()
    {
        var stranger = new IPEndPoint(IPAddress.Parse("203.0.113.9"), 5555);
        var knownProxy = new IPEndPoint(IPAddress.Parse("2001:db8::10"), 5555);
        var mappedLoopback = new IPEndPoint(IPAddress.Loopback.MapToIPv6(), 5555);

        Assert.Equal(stranger, new ForwardedFor(TrustingLoopback()).Apply(stranger, "198.51.100.7"));
        Assert.Equal(IPEndPoint.Parse("198.51.100.7:0"), new ForwardedFor(TrustingLoopback()).Apply(knownProxy, "198.51.100.7"));
        Assert.Equal(IPEndPoint.Parse("198.51.100.7:0"), new ForwardedFor(TrustingLoopback()).Apply(mappedLoopback, "198.51.100.7"));
        var loopback = new IPEndPoint(IPAddress.Loopback, 5555);
        Assert.Equal(loopback, new ForwardedFor(TrustingLoopback(ForwardedHeaders.XForwardedProto)).Apply(loopback, "198.51.100.7"));
        Assert.Equal(loopback, new ForwardedFor(null).Apply(loopback, "198.51.100.7"));
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory) => Memory = memory;

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
