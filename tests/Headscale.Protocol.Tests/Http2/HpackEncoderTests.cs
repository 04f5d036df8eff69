using Headscale.Protocol.Http2;

namespace Headscale.Protocol.Tests.Http2;

public sealed class HpackEncoderTests
{
    [Theory]
    [InlineData(200, "88")]
    [InlineData(204, "89")]
    [InlineData(206, "8a")]
    [InlineData(304, "8b")]
    [InlineData(400, "8c")]
    [InlineData(404, "8d")]
    [InlineData(500, "8e")]
    [InlineData(302, "0803 333032")]
    [InlineData(101, "0803 313031")]
    [InlineData(431, "0803 343331")]
    [InlineData(999, "0803 393939")]
    public void Status_uses_the_static_table_and_round_trips(int status, string hex)
    {
        var buffer = new byte[8];

        Assert.True(HpackEncoder.TryEncodeStatus(status, buffer, out var written));

        Assert.Equal(TestHex.Bytes(hex), buffer[..written]);
        var collector = new HeaderCollector();
        var decoder = new HpackDecoder();
        decoder.Decode(buffer.AsSpan(0, written), collector);
        Assert.Equal([(":status", status.ToString())], collector.Fields);
        Assert.Empty(HeaderCollector.Table(decoder));
    }

    [Theory]
    [InlineData(99)]
    [InlineData(1000)]
    [InlineData(-200)]
    public void Status_outside_three_digits_is_rejected(int status) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => HpackEncoder.TryEncodeStatus(status, new byte[8], out _));

    [Theory]
    [InlineData(200)]
    [InlineData(302)]
    public void Status_into_a_short_buffer_writes_nothing(int status)
    {
        Assert.True(HpackEncoder.TryEncodeStatus(status, new byte[8], out var needed));
        for (var size = 0; size < needed; size++)
        {
            Assert.False(HpackEncoder.TryEncodeStatus(status, new byte[size], out var written));
            Assert.Equal(0, written);
        }
    }

    [Fact]
    public void Literal_has_a_new_name_and_no_huffman()
    {
        var buffer = new byte[32];

        Assert.True(HpackEncoder.TryEncodeLiteral("content-type", "application/json", buffer, out var written));

        Assert.Equal(
            TestHex.Bytes("00 0c 636f6e74656e742d74797065 10 6170706c69636174696f6e2f6a736f6e"),
            buffer[..written]);
    }

    [Fact]
    public void Header_uses_the_static_name_index()
    {
        var buffer = new byte[32];

        Assert.True(HpackEncoder.TryEncodeHeader(":path", "/machine/map", buffer, out var written));
        Assert.Equal(TestHex.Bytes("04 0c 2f6d616368696e652f6d6170"), buffer[..written]);

        // user-agent is static index 58: 15 in the 4-bit prefix, then 43.
        Assert.True(HpackEncoder.TryEncodeHeader("user-agent", "x", buffer, out written));
        Assert.Equal(TestHex.Bytes("0f2b 01 78"), buffer[..written]);

        Assert.True(HpackEncoder.TryEncodeHeader("x-custom", "y", buffer, out written));
        Assert.Equal(TestHex.Bytes("00 08 782d637573746f6d 01 79"), buffer[..written]);
    }

    [Fact]
    public void A_request_and_a_response_round_trip_through_the_decoder()
    {
        var request = new (string Name, string Value)[]
        {
            (":method", "POST"), (":scheme", "http"), (":authority", "controlplane.example.com"),
            (":path", "/machine/map"), ("content-type", "application/json"), ("user-agent", "Go-http-client/2.0"),
            ("accept-encoding", "gzip"), ("x-long", new string('v', 300)), ("x-empty", ""),
            ("www-authenticate", "Basic realm=\"é\""),
        };
        var buffer = new byte[1024];
        var length = 0;
        foreach (var (name, value) in request)
        {
            Assert.True(HpackEncoder.TryEncodeHeader(name, value, buffer.AsSpan(length), out var written));
            length += written;
        }

        Assert.True(HpackEncoder.TryEncodeStatus(200, buffer.AsSpan(length), out var statusLength));
        length += statusLength;
        Assert.True(HpackEncoder.TryEncodeLiteral("x-response", "ok", buffer.AsSpan(length), out var literalLength));
        length += literalLength;

        var collector = new HeaderCollector();
        var decoder = new HpackDecoder();
        decoder.Decode(buffer.AsSpan(0, length), collector);

        Assert.Equal([.. request, (":status", "200"), ("x-response", "ok")], collector.Fields);
        Assert.Empty(HeaderCollector.Table(decoder));
    }

    [Fact]
    public void A_header_into_a_short_buffer_is_refused_at_every_length()
    {
        var value = new string('v', 200); // a two-byte length prefix
        Assert.True(HpackEncoder.TryEncodeHeader("x-name", value, new byte[512], out var needed));
        Assert.True(HpackEncoder.TryEncodeHeader(":authority", value, new byte[512], out var neededIndexed));

        for (var size = 0; size < needed; size++)
        {
            Assert.False(HpackEncoder.TryEncodeHeader("x-name", value, new byte[size], out var written));
            Assert.Equal(0, written);
            Assert.False(HpackEncoder.TryEncodeLiteral("x-name", value, new byte[size], out written));
            Assert.Equal(0, written);
        }

        for (var size = 0; size < neededIndexed; size++)
        {
            Assert.False(HpackEncoder.TryEncodeHeader(":authority", value, new byte[size], out _));
        }
    }

    [Theory]
    [InlineData("Content-Type", "x")]
    [InlineData("", "x")]
    [InlineData("bad name", "x")]
    [InlineData("naïve", "x")]
    [InlineData("x-ok", "line\nbreak")]
    [InlineData("x-ok", "nul\0")]
    [InlineData("x-ok", "carriage\rreturn")]
    [InlineData("x-ok", "snow ☃")]
    public void Bad_names_and_values_are_rejected(string name, string value)
    {
        Assert.Throws<ArgumentException>(() => HpackEncoder.TryEncodeLiteral(name, value, new byte[64], out _));
        Assert.Throws<ArgumentException>(() => HpackEncoder.TryEncodeHeader(name, value, new byte[64], out _));
    }
}
