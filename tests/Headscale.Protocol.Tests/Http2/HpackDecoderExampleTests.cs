using Headscale.Protocol.Http2;

namespace Headscale.Protocol.Tests.Http2;

/// <summary>Every example of RFC 7541 Appendix C, checking the decoded fields and the dynamic table after each.</summary>
public sealed class HpackDecoderExampleTests
{
    private const string Date21 = "Mon, 21 Oct 2013 20:13:21 GMT";
    private const string Date22 = "Mon, 21 Oct 2013 20:13:22 GMT";
    private const string Cookie = "foo=ASDJKHQKBZXOQWEOPIUAXQWEOIU; max-age=3600; version=1";

    [Theory]
    [InlineData("0a", 5, 10)]          // C.1.1
    [InlineData("1f9a0a", 5, 1337)]    // C.1.2
    [InlineData("2a", 8, 42)]          // C.1.3
    public void C1_integers_decode_and_encode(string hex, int prefixBits, int value)
    {
        var bytes = TestHex.Bytes(hex);
        var position = 0;

        Assert.Equal(value, HpackDecoder.ReadInteger(bytes, ref position, prefixBits));
        Assert.Equal(bytes.Length, position);

        var written = new byte[8];
        var length = 0;
        Assert.True(HpackEncoder.TryWriteInteger(value, prefixBits, 0, written, ref length));
        Assert.Equal(bytes, written[..length]);
    }

    [Fact]
    public void C1_prefix_bits_above_the_prefix_are_ignored()
    {
        var bytes = TestHex.Bytes("ff9a0a"); // 1337 with the three high bits set
        var position = 0;

        Assert.Equal(1337, HpackDecoder.ReadInteger(bytes, ref position, 5));
    }

    [Fact]
    public void C2_1_literal_with_indexing_adds_to_the_table()
    {
        var decoder = new HpackDecoder();

        var fields = HeaderCollector.Decode(decoder, "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572");

        Assert.Equal([("custom-key", "custom-header")], fields);
        Assert.Equal([("custom-key", "custom-header", 55)], HeaderCollector.Table(decoder));
        Assert.Equal(55, decoder.DynamicTable.Size);
    }

    [Theory]
    [InlineData("040c 2f73 616d 706c 652f 7061 7468", ":path", "/sample/path")]            // C.2.2
    [InlineData("1008 7061 7373 776f 7264 0673 6563 7265 74", "password", "secret")]     // C.2.3
    [InlineData("82", ":method", "GET")]                                                 // C.2.4
    public void C2_literals_without_indexing_and_indexed_fields_leave_the_table_empty(string hex, string name, string value)
    {
        var decoder = new HpackDecoder();

        var fields = HeaderCollector.Decode(decoder, hex);

        Assert.Equal([(name, value)], fields);
        Assert.Empty(HeaderCollector.Table(decoder));
        Assert.Equal(0, decoder.DynamicTable.Size);
    }

    public static TheoryData<string, string, string, string> RequestSequences => new()
    {
        {
            "C.3 without Huffman",
            "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
            "8286 84be 5808 6e6f 2d63 6163 6865",
            "8287 85bf 400a 6375 7374 6f6d 2d6b 6579 0c63 7573 746f 6d2d 7661 6c75 65"
        },
        {
            "C.4 with Huffman",
            "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
            "8286 84be 5886 a8eb 1064 9cbf",
            "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf"
        },
    };

    [Theory]
    [MemberData(nameof(RequestSequences))]
    public void C3_and_C4_request_sequences_share_one_dynamic_table(string example, string first, string second, string third)
    {
        Assert.NotEmpty(example);
        var decoder = new HpackDecoder();

        Assert.Equal(
            [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com")],
            HeaderCollector.Decode(decoder, first));
        Assert.Equal([(":authority", "www.example.com", 57)], HeaderCollector.Table(decoder));
        Assert.Equal(57, decoder.DynamicTable.Size);

        Assert.Equal(
            [(":method", "GET"), (":scheme", "http"), (":path", "/"), (":authority", "www.example.com"),
             ("cache-control", "no-cache")],
            HeaderCollector.Decode(decoder, second));
        Assert.Equal(
            [("cache-control", "no-cache", 53), (":authority", "www.example.com", 57)],
            HeaderCollector.Table(decoder));
        Assert.Equal(110, decoder.DynamicTable.Size);

        Assert.Equal(
            [(":method", "GET"), (":scheme", "https"), (":path", "/index.html"), (":authority", "www.example.com"),
             ("custom-key", "custom-value")],
            HeaderCollector.Decode(decoder, third));
        Assert.Equal(
            [("custom-key", "custom-value", 54), ("cache-control", "no-cache", 53), (":authority", "www.example.com", 57)],
            HeaderCollector.Table(decoder));
        Assert.Equal(164, decoder.DynamicTable.Size);
    }

    public static TheoryData<string, string, string, string> ResponseSequences => new()
    {
        {
            "C.5 without Huffman",
            "4803 3330 3258 0770 7269 7661 7465 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 " +
            "2032 303a 3133 3a32 3120 474d 546e 1768 7474 7073 3a2f 2f77 7777 2e65 7861 6d70 6c65 2e63 6f6d",
            "4803 3330 37c1 c0bf",
            "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d " +
            "54c0 5a04 677a 6970 7738 666f 6f3d 4153 444a 4b48 514b 425a 584f 5157 454f 5049 " +
            "5541 5851 5745 4f49 553b 206d 6178 2d61 6765 3d33 3630 303b 2076 6572 7369 6f6e 3d31"
        },
        {
            "C.6 with Huffman",
            "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 " +
            "2d1b ff6e 919d 29ad 1718 63c7 8f0b 97c8 e9ae 82ae 43d3",
            "4883 640e ffc1 c0bf",
            "88c1 6196 d07a be94 1054 d444 a820 0595 040b 8166 e084 a62d 1bff c05a 839b d9ab " +
            "77ad 94e7 821d d7f2 e6c7 b335 dfdf cd5b 3960 d5af 2708 7f36 72c1 ab27 0fb5 291f " +
            "9587 3160 65c0 03ed 4ee5 b106 3d50 07"
        },
    };

    [Theory]
    [MemberData(nameof(ResponseSequences))]
    public void C5_and_C6_response_sequences_evict_from_a_256_byte_table(string example, string first, string second, string third)
    {
        Assert.NotEmpty(example);
        var decoder = new HpackDecoder(maxDynamicTableSize: 256);

        Assert.Equal(
            [(":status", "302"), ("cache-control", "private"), ("date", Date21), ("location", "https://www.example.com")],
            HeaderCollector.Decode(decoder, first));
        Assert.Equal(
            [("location", "https://www.example.com", 63), ("date", Date21, 65), ("cache-control", "private", 52),
             (":status", "302", 42)],
            HeaderCollector.Table(decoder));
        Assert.Equal(222, decoder.DynamicTable.Size);

        // ":status: 307" evicts ":status: 302".
        Assert.Equal(
            [(":status", "307"), ("cache-control", "private"), ("date", Date21), ("location", "https://www.example.com")],
            HeaderCollector.Decode(decoder, second));
        Assert.Equal(
            [(":status", "307", 42), ("location", "https://www.example.com", 63), ("date", Date21, 65),
             ("cache-control", "private", 52)],
            HeaderCollector.Table(decoder));
        Assert.Equal(222, decoder.DynamicTable.Size);

        // Three insertions evict four entries.
        Assert.Equal(
            [(":status", "200"), ("cache-control", "private"), ("date", Date22), ("location", "https://www.example.com"),
             ("content-encoding", "gzip"), ("set-cookie", Cookie)],
            HeaderCollector.Decode(decoder, third));
        Assert.Equal(
            [("set-cookie", Cookie, 98), ("content-encoding", "gzip", 52), ("date", Date22, 65)],
            HeaderCollector.Table(decoder));
        Assert.Equal(215, decoder.DynamicTable.Size);
    }
}
