using System.Text;
using BenchmarkDotNet.Attributes;
using Headscale.Protocol.Http2;

namespace Headscale.Bench.Transport;

/// <summary>
/// HPACK decoding of the request headers a Go HTTP/2 client sends on a ts2021 connection: the first request of a
/// connection (Huffman-coded literals that the client indexes), the same request once its fields are in the dynamic
/// table (one byte per field), and the Huffman decoder alone. Encoding responses is a few bytes of copying and is
/// not measured.
/// </summary>
[MemoryDiagnoser]
public class HpackBenchmarks
{
    private static readonly (string Name, string Value)[] Request =
    [
        (":authority", "controlplane.example.com"), (":method", "POST"), (":path", "/machine/map"),
        (":scheme", "http"), ("content-type", "application/json"), ("user-agent", "Go-http-client/2.0"),
        ("accept-encoding", "gzip"), ("content-length", "1234"),
    ];

    private readonly NoHeaders _handler = new();
    private byte[] _first = [];
    private byte[] _repeat = [];
    private byte[] _huffman = [];
    private byte[] _scratch = new byte[64];
    private HpackDecoder _warm = null!;

    [GlobalSetup]
    public void Setup()
    {
        // First request: each field as a literal with incremental indexing and a Huffman-coded new name and value,
        // as Go's encoder writes a field it has not sent before. Repeat: each field indexed from the dynamic table
        // (the newest, content-length, is index 62; the oldest, :authority, 69).
        var first = new List<byte>();
        foreach (var (name, value) in Request)
        {
            first.Add(0x40);
            first.AddRange(Huffman(name));
            first.AddRange(Huffman(value));
        }

        _first = [.. first];
        _repeat = [.. Enumerable.Range(0, Request.Length).Select(i => (byte)(0x80 | (62 + Request.Length - 1 - i)))];
        _huffman = Huffman("controlplane.example.com")[1..];
        _warm = new HpackDecoder();
        _warm.Decode(_first, _handler);
    }

    [Benchmark(Description = "first request, 8 Huffman literals, new decoder")]
    public void FirstRequest() => new HpackDecoder().Decode(_first, _handler);

    [Benchmark(Description = "repeat request, 8 indexed fields")]
    public void RepeatRequest() => _warm.Decode(_repeat, _handler);

    [Benchmark(Description = "Huffman decode of a 24-character string")]
    public int HuffmanString() => HpackHuffman.Decode(_huffman, _scratch);

    private static byte[] Huffman(string text)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        var coded = new byte[HpackHuffman.EncodedLength(bytes) + 1];
        coded[0] = (byte)(0x80 | (coded.Length - 1));
        HpackHuffman.Encode(bytes, coded.AsSpan(1));
        return coded;
    }

    private sealed class NoHeaders : IHpackHeaderHandler
    {
        public int Count;

        public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) => Count += name.Length + value.Length;
    }
}
