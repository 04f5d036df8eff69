using System.Text;
using Headscale.Protocol.Http2;

namespace Headscale.Protocol.Tests.Http2;

public sealed class HpackHuffmanTests
{
    [Theory]
    [InlineData('0', 0x0u, 5)]
    [InlineData('a', 0x3u, 5)]
    [InlineData(' ', 0x14u, 6)]
    [InlineData('A', 0x21u, 6)]
    [InlineData('/', 0x18u, 6)]
    [InlineData('{', 0x7ffeu, 15)]
    [InlineData('\0', 0x1ff8u, 13)]
    [InlineData((char)255, 0x3ffffeeu, 26)]
    public void Canonical_codes_built_from_the_lengths_are_the_rfc_codes(char symbol, uint code, int length)
    {
        Assert.Equal(code, HpackHuffman.Code(symbol));
        Assert.Equal(length, HpackHuffman.CodeLength(symbol));
    }

    [Fact]
    public void Eos_is_thirty_ones()
    {
        Assert.Equal(0x3fffffffu, HpackHuffman.Code(HpackHuffman.Eos));
        Assert.Equal(30, HpackHuffman.CodeLength(HpackHuffman.Eos));
    }

    [Theory]
    [InlineData("f1e3 c2e5 f23a 6ba0 ab90 f4ff", "www.example.com")]
    [InlineData("a8eb 1064 9cbf", "no-cache")]
    [InlineData("25a8 49e9 5ba9 7d7f", "custom-key")]
    [InlineData("25a8 49e9 5bb8 e8b4 bf", "custom-value")]
    [InlineData("6402", "302")]
    [InlineData("640e ff", "307")]
    [InlineData("aec3 771a 4b", "private")]
    [InlineData("d07a be94 1054 d444 a820 0595 040b 8166 e082 a62d 1bff", "Mon, 21 Oct 2013 20:13:21 GMT")]
    [InlineData("9d29 ad17 1863 c78f 0b97 c8e9 ae82 ae43 d3", "https://www.example.com")]
    [InlineData("9bd9 ab", "gzip")]
    [InlineData("", "")]
    public void Rfc_strings_decode_and_encode(string hex, string text)
    {
        var coded = TestHex.Bytes(hex);
        var output = new byte[64];

        var length = HpackHuffman.Decode(coded, output);
        var encoded = new byte[64];
        var encodedLength = HpackHuffman.Encode(Encoding.ASCII.GetBytes(text), encoded);

        Assert.Equal(text, Encoding.ASCII.GetString(output, 0, length));
        Assert.Equal(coded, encoded[..encodedLength]);
        Assert.Equal(coded.Length, HpackHuffman.EncodedLength(Encoding.ASCII.GetBytes(text)));
    }

    [Fact]
    public void Every_byte_value_round_trips_at_every_bit_alignment()
    {
        for (var lead = 0; lead < 8; lead++)
        {
            var source = new byte[256 + lead];
            for (var i = 0; i < 256; i++)
            {
                source[lead + i] = (byte)i;
            }

            var coded = new byte[HpackHuffman.EncodedLength(source)];
            Assert.Equal(coded.Length, HpackHuffman.Encode(source, coded));
            var decoded = new byte[source.Length];

            Assert.Equal(source.Length, HpackHuffman.Decode(coded, decoded));
            Assert.Equal(source, decoded);
        }
    }

    [Fact]
    public void Output_past_the_destination_is_counted_not_written()
    {
        var coded = TestHex.Bytes("f1e3 c2e5 f23a 6ba0 ab90 f4ff");
        var output = new byte[4];

        Assert.Equal(15, HpackHuffman.Decode(coded, output));
        Assert.Equal("www.", Encoding.ASCII.GetString(output));
    }

    [Theory]
    [InlineData("ffff ffff", "EOS")]              // the EOS code itself
    [InlineData("1fff ffff ff", "EOS")]           // 'a' then EOS
    [InlineData("ff", "padding")]                 // 8 bits of padding
    [InlineData("1fff", "padding")]               // 'a' then 11 bits of padding
    [InlineData("18", "padding")]                 // 'a' then padding 000
    [InlineData("1e", "padding")]                 // 'a' then padding 110
    public void Bad_strings_are_compression_errors(string hex, string problem)
    {
        var error = Assert.Throws<HpackException>(() => HpackHuffman.Decode(TestHex.Bytes(hex), new byte[16]));

        Assert.Contains(problem, error.Message);
    }
}
