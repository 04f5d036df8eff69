using System.Text;
using Headscale.Protocol.Http2;

namespace Headscale.Protocol.Tests.Http2;

public sealed class HpackDecoderTests
{
    [Theory]
    [InlineData("80", "index 0")]
    [InlineData("be", "index 62 is past the static and dynamic tables (61 entries)")]
    [InlineData("ff80ffffff07", "index 2147483647 is past")]                 // 2^31 - 1 still parses as an integer
    [InlineData("ff81ffffff07", "larger than 2^31 - 1")]                      // 2^31
    [InlineData("ffffffffff0f", "larger than 2^31 - 1")]                      // 2^32 + 126
    [InlineData("ff8080808080808001", "larger than 2^31 - 1")]               // too many continuation bytes
    [InlineData("ff", "ends inside an integer")]
    [InlineData("ff80", "ends inside an integer")]
    [InlineData("40", "ends before a string literal")]                       // no name
    [InlineData("400a6375", "string literal of 10 bytes is truncated (2 left)")]
    [InlineData("4001 61", "ends before a string literal")]                  // name but no value
    [InlineData("0001 6105 6162", "string literal of 5 bytes is truncated (2 left)")]
    [InlineData("0084 ffffffff 00", "EOS")]                                   // Huffman name holding EOS
    [InlineData("0001 61 85 1fffffffff", "EOS")]                              // Huffman value: 'a' then EOS
    [InlineData("0082 1fff 00", "padding")]                                   // 'a' then 11 bits of padding
    [InlineData("0081 18 00", "padding")]                                     // 'a' then padding 000
    [InlineData("3fe21f", "dynamic table size update to 4097 is above the limit of 4096")]
    [InlineData("82 20", "dynamic table size update after a header field")]
    public void Malformed_blocks_are_compression_errors(string hex, string message)
    {
        var decoder = new HpackDecoder();

        var error = Assert.Throws<HpackException>(() => HeaderCollector.Decode(decoder, hex));

        Assert.Contains(message, error.Message);
    }

    [Fact]
    public void Index_past_a_filled_dynamic_table_names_both_tables()
    {
        var decoder = new HpackDecoder();
        HeaderCollector.Decode(decoder, "400a 6375 7374 6f6d 2d6b 6579 0d63 7573 746f 6d2d 6865 6164 6572");

        Assert.Equal([("custom-key", "custom-header")], HeaderCollector.Decode(decoder, "be"));
        var error = Assert.Throws<HpackException>(() => HeaderCollector.Decode(decoder, "bf"));
        Assert.Contains("index 63 is past the static and dynamic tables (62 entries)", error.Message);
    }

    [Fact]
    public void Size_updates_at_the_start_of_a_block_shrink_and_restore_the_table()
    {
        var decoder = new HpackDecoder();
        HeaderCollector.Decode(decoder, "8286 8441 0f77 7777 2e65 7861 6d70 6c65 2e63 6f6d");

        // Two updates (0 then 4096) before the first field: the first empties the table.
        Assert.Equal([(":method", "GET")], HeaderCollector.Decode(decoder, "20 3fe11f 82"));

        Assert.Empty(HeaderCollector.Table(decoder));
        Assert.Equal(4096, decoder.DynamicTable.MaxSize);
        Assert.Throws<HpackException>(() => HeaderCollector.Decode(decoder, "be"));
    }

    [Fact]
    public void Size_update_to_the_limit_is_accepted()
    {
        var decoder = new HpackDecoder(maxDynamicTableSize: 100);

        HeaderCollector.Decode(decoder, "3f45"); // 31 + 69 = 100

        Assert.Equal(100, decoder.DynamicTable.MaxSize);
        Assert.Throws<HpackException>(() => HeaderCollector.Decode(decoder, "3f46"));
    }

    [Fact]
    public void An_entry_larger_than_the_table_empties_it()
    {
        var decoder = new HpackDecoder(maxDynamicTableSize: 60);
        HeaderCollector.Decode(decoder, "4001 6101 62"); // a: b, 34 bytes

        // 10 + 20 + 32 = 62 > 60.
        var fields = HeaderCollector.Decode(decoder, "400a 6161616161616161 6161 14 6262626262626262626262626262626262626262");

        Assert.Equal([(new string('a', 10), new string('b', 20))], fields);
        Assert.Empty(HeaderCollector.Table(decoder));
        Assert.Equal(0, decoder.DynamicTable.Size);
    }

    [Fact]
    public void A_new_entry_keeps_the_name_of_the_entry_its_insertion_evicts()
    {
        // RFC 7541 §4.4: the name may refer to an entry that is evicted to make room. Two entries of 100 bytes
        // fill a 200-byte table; the third names the oldest one, which is evicted before the third is added.
        var decoder = new HpackDecoder(maxDynamicTableSize: 200);
        var value = (char c) => Convert.ToHexString(Encoding.ASCII.GetBytes(new string(c, 62)));
        HeaderCollector.Decode(decoder, "4006 6e616d652d61 3e" + value('x'));  // name-a
        HeaderCollector.Decode(decoder, "4006 6e616d652d62 3e" + value('y'));  // name-b

        var fields = HeaderCollector.Decode(decoder, "7f00 3e" + value('z')); // name of index 63 = name-a

        Assert.Equal([("name-a", new string('z', 62))], fields);
        Assert.Equal(
            [("name-a", new string('z', 62), 100), ("name-b", new string('y', 62), 100)],
            HeaderCollector.Table(decoder));
    }

    [Fact]
    public void Many_insertions_keep_the_table_correct_as_its_bytes_slide_and_wrap()
    {
        var decoder = new HpackDecoder(maxDynamicTableSize: 300);
        var expected = new List<(string Name, string Value, int Size)>();
        for (var i = 0; i < 500; i++)
        {
            var name = $"n{i % 7}";
            var text = new string((char)('a' + i % 26), i % 40);
            // A new-name literal without indexing, turned into one with incremental indexing (first byte 0x40).
            var block = new byte[64];
            Assert.True(HpackEncoder.TryEncodeLiteral(name, text, block, out var length));
            block[0] = 0x40;
            var collector = new HeaderCollector();
            decoder.Decode(block.AsSpan(0, length), collector);
            Assert.Equal([(name, text)], collector.Fields);

            expected.Insert(0, (name, text, name.Length + text.Length + 32));
            while (expected.Sum(e => e.Size) > 300)
            {
                expected.RemoveAt(expected.Count - 1);
            }

            Assert.Equal(expected, HeaderCollector.Table(decoder));
        }

        Assert.True(decoder.DynamicTable.AllocatedBytes <= 300 + 16 * 12);
    }

    [Fact]
    public void An_idle_decoder_and_plain_literals_allocate_no_buffers()
    {
        var decoder = new HpackDecoder();
        Assert.Equal(0, decoder.DynamicTable.AllocatedBytes);
        Assert.Equal(0, decoder.ScratchBytes);

        HeaderCollector.Decode(decoder, "8286 84 040c 2f73 616d 706c 652f 7061 7468");

        Assert.Equal(0, decoder.DynamicTable.AllocatedBytes);
        Assert.Equal(0, decoder.ScratchBytes);
    }

    [Fact]
    public void Huffman_strings_use_a_scratch_buffer_sized_by_use()
    {
        var decoder = new HpackDecoder();

        HeaderCollector.Decode(decoder, "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff");

        Assert.InRange(decoder.ScratchBytes, 1, 64);
        Assert.InRange(decoder.DynamicTable.AllocatedBytes, 1, 256 + 8 * 12);
    }

    [Fact]
    public void Header_list_over_the_limit_is_reported_after_the_block_keeps_the_table_in_step()
    {
        // :method GET (42) + :scheme http (43) fit in 90; :authority www.example.com (57) does not.
        var decoder = new HpackDecoder(maxHeaderListSize: 90);
        var collector = new HeaderCollector();

        var error = Assert.Throws<HpackHeaderListTooLargeException>(() =>
            decoder.Decode(TestHex.Bytes("8286 418c f1e3 c2e5 f23a 6ba0 ab90 f4ff 84"), collector));

        Assert.Equal(90, error.MaxHeaderListSize);
        Assert.Equal([(":method", "GET"), (":scheme", "http")], collector.Fields);
        Assert.Equal([(":authority", "www.example.com", 57)], HeaderCollector.Table(decoder));
        Assert.Equal([(":authority", "www.example.com")], HeaderCollector.Decode(decoder, "be"));
    }

    [Fact]
    public void A_huffman_string_larger_than_every_limit_is_not_decoded_but_still_checked()
    {
        var decoder = new HpackDecoder(maxDynamicTableSize: 64, maxHeaderListSize: 64);
        HeaderCollector.Decode(decoder, "4001 6101 62");
        // 100 bytes of Huffman 'a's (00011) decode to 160 symbols, far past the 64-byte scratch limit.
        var coded = new byte[100];
        Assert.Equal(100, HpackHuffman.Encode(Encoding.ASCII.GetBytes(new string('a', 160)), coded));
        var block = TestHex.Bytes("4001 78 e4").Concat(coded).ToArray(); // x: <160 a's>, indexed

        Assert.Throws<HpackHeaderListTooLargeException>(() => decoder.Decode(block, new HeaderCollector()));

        Assert.Empty(HeaderCollector.Table(decoder));
        Assert.True(decoder.ScratchBytes <= 64);

        coded[^1] = 0x18; // bad padding in the same oversized string is still an error
        var bad = TestHex.Bytes("0001 78 e4").Concat(coded).ToArray();
        Assert.Throws<HpackException>(() => decoder.Decode(bad, new HeaderCollector()));
    }
}
