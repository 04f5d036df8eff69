using System.Collections.Immutable;
using System.Globalization;

namespace Headscale.Policy.Model;

public readonly record struct PortRange(ushort First, ushort Last)
{
    public static readonly PortRange All = new(0, 65535);

    public bool Contains(int port) => port >= First && port <= Last;
}

/// <summary>A destination of an ACL or a test: an alias and the ports written after its last ':'.</summary>
public sealed record Destination(Alias Alias, ImmutableArray<PortRange> Ports, string PortsText);

public static class DestinationParser
{
    /// <summary>
    /// Splits "alias:ports" on the last colon (IPv6 addresses contain colons; "[v6]:port" is also accepted).
    /// Returns an error in Tailscale's wording, without the field prefix, when the text is malformed.
    /// </summary>
    public static Destination? TryParse(string text, out string? error)
    {
        error = null;
        string aliasText, portsText;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf("]:", StringComparison.Ordinal);
            if (close < 0) { error = $"dst {Quote(text)}: missing port"; return null; }
            aliasText = text[1..close];
            portsText = text[(close + 2)..];
        }
        else
        {
            var colon = text.LastIndexOf(':');
            if (colon < 0) { error = $"dst {Quote(text)}: missing port"; return null; }
            aliasText = text[..colon];
            portsText = text[(colon + 1)..];
        }
        var ports = ParsePorts(portsText, out error);
        if (error is not null) { error = $"dst={Quote(text)}: {error}"; return null; }
        return new Destination(Alias.Parse(aliasText), ports, portsText);
    }

    /// <summary>Parses "*", "N", "N-M" or a comma list of those.</summary>
    public static ImmutableArray<PortRange> ParsePorts(string text, out string? error)
    {
        error = null;
        if (text == "*") return [PortRange.All];
        var result = ImmutableArray.CreateBuilder<PortRange>();
        foreach (var part in text.Split(','))
        {
            var dash = part.IndexOf('-');
            var firstText = dash < 0 ? part : part[..dash];
            var lastText = dash < 0 ? part : part[(dash + 1)..];
            if (!TryPort(firstText, out var first)) { error = $"port range {Quote(part)}: invalid first integer"; return []; }
            if (!TryPort(lastText, out var last)) { error = $"port range {Quote(part)}: invalid last integer"; return []; }
            if (first == 0) { error = $"port range {Quote(part)}: first port must be >0, or use '*' for wildcard"; return []; }
            if (first > last) { error = $"port range {Quote(part)}: first port must be <= last port"; return []; }
            result.Add(new PortRange(first, last));
        }
        return result.ToImmutable();
    }

    private static bool TryPort(string text, out ushort port) =>
        ushort.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out port);

    /// <summary>Quotes like Go's %q for the characters policies contain, so messages match the service's.</summary>
    public static string Quote(string s)
    {
        var sb = new System.Text.StringBuilder(s.Length + 2).Append('"');
        foreach (var c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\t': sb.Append("\\t"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                default:
                    if (char.IsControl(c)) sb.Append(CultureInfo.InvariantCulture, $"\\x{(int)c:x2}");
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }
}

/// <summary>IP protocol names and numbers accepted in <c>proto</c>.</summary>
public static class Protocols
{
    private static readonly Dictionary<string, int> Names = new(StringComparer.Ordinal)
    {
        ["icmp"] = 1, ["igmp"] = 2, ["ipv4"] = 4, ["ip-in-ip"] = 4, ["tcp"] = 6, ["egp"] = 8, ["igp"] = 9,
        ["udp"] = 17, ["gre"] = 47, ["esp"] = 50, ["ah"] = 51, ["ipv6-icmp"] = 58, ["sctp"] = 132,
    };

    /// <summary>Null for "no protocol" (the client then applies TCP, UDP, ICMPv4 and ICMPv6).</summary>
    public static ImmutableArray<int>? Parse(string? proto, out string? error)
    {
        error = null;
        if (string.IsNullOrEmpty(proto)) return null;
        if (Names.TryGetValue(proto, out var n)) return [n];
        if (proto.Length > 0 && proto[0] != '0' && int.TryParse(proto, NumberStyles.None, CultureInfo.InvariantCulture, out n) && n is >= 1 and <= 255)
            return [n];
        error = $"proto={DestinationParser.Quote(proto)}: unknown protocol";
        return null;
    }

    /// <summary>Only these protocols (or none) may name specific ports.</summary>
    public static bool AllowsPorts(ImmutableArray<int>? protos) =>
        protos is null || protos.Value.All(p => p is 6 or 17 or 132);
}
