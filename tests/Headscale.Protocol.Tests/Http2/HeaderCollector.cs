using System.Text;
using Headscale.Protocol.Http2;

namespace Headscale.Protocol.Tests.Http2;

/// <summary>Collects decoded fields as Latin-1 strings, and reads a decoder's dynamic table the same way.</summary>
internal sealed class HeaderCollector : IHpackHeaderHandler
{
    public List<(string Name, string Value)> Fields { get; } = [];

    public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value) =>
        Fields.Add((Encoding.Latin1.GetString(name), Encoding.Latin1.GetString(value)));

    public static List<(string Name, string Value)> Decode(HpackDecoder decoder, string hex)
    {
        var collector = new HeaderCollector();
        decoder.Decode(TestHex.Bytes(hex), collector);
        return collector.Fields;
    }

    /// <summary>The dynamic table, newest entry first, with each entry's RFC 7541 §4.1 size.</summary>
    public static List<(string Name, string Value, int Size)> Table(HpackDecoder decoder)
    {
        var table = decoder.DynamicTable;
        var entries = new List<(string, string, int)>();
        for (var i = 1; i <= table.Count; i++)
        {
            table.Get(i, out var name, out var value);
            entries.Add((Encoding.Latin1.GetString(name), Encoding.Latin1.GetString(value), name.Length + value.Length + 32));
        }

        return entries;
    }
}
