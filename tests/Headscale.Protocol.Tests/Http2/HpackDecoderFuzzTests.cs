using Headscale.Protocol.Http2;

namespace Headscale.Protocol.Tests.Http2;

/// <summary>Garbled blocks fail only with the two HPACK exceptions, never with an index or range error.</summary>
public sealed class HpackDecoderFuzzTests
{
    private static readonly string[] Seeds =
    [
        "8286 8441 8cf1 e3c2 e5f2 3a6b a0ab 90f4 ff",
        "8287 85bf 4088 25a8 49e9 5ba9 7d7f 8925 a849 e95b b8e8 b4bf",
        "4882 6402 5885 aec3 771a 4b61 96d0 7abe 9410 54d4 44a8 2005 9504 0b81 66e0 82a6 2d1b ff6e 919d 29ad 1718 63c7",
        "88c1 611d 4d6f 6e2c 2032 3120 4f63 7420 3230 3133 2032 303a 3133 3a32 3220 474d 54c0 5a04 677a 6970",
        "3fe11f 1008 7061 7373 776f 7264 0673 6563 7265 74",
    ];

    [Fact]
    public void Mutated_blocks_throw_only_hpack_exceptions()
    {
        var random = new Random(7541);
        for (var round = 0; round < 20_000; round++)
        {
            var decoder = new HpackDecoder(maxDynamicTableSize: 256, maxHeaderListSize: 512);
            for (var block = 0; block < 3; block++)
            {
                var bytes = TestHex.Bytes(Seeds[random.Next(Seeds.Length)]);
                var mutations = random.Next(1, 4);
                for (var m = 0; m < mutations; m++)
                {
                    bytes[random.Next(bytes.Length)] = (byte)random.Next(256);
                }

                if (random.Next(4) == 0)
                {
                    bytes = bytes[..random.Next(bytes.Length)];
                }

                try
                {
                    decoder.Decode(bytes, new HeaderCollector());
                }
                catch (HpackException)
                {
                    break; // the connection would end here
                }
                catch (HpackHeaderListTooLargeException)
                {
                    // only the stream fails; the decoder goes on
                }

                Assert.True(decoder.DynamicTable.Size <= decoder.DynamicTable.MaxSize);
            }
        }
    }
}
