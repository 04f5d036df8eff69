using System.Text.Json;

namespace Headscale.Bench.Map;

/// <summary>The checks the load generator applies to a decompressed MapResponse.</summary>
internal static class MapFrames
{
    /// <summary>Whether a peer with <paramref name="nodeKey"/> in PeersChanged lists <paramref name="prefix"/> in AllowedIPs.</summary>
    public static bool PeerHasAllowedIp(ReadOnlySpan<byte> json, string nodeKey, string prefix)
    {
        var reader = new Utf8JsonReader(json);
        if (!JsonDocument.TryParseValue(ref reader, out var parsed))
        {
            return false;
        }

        using var document = parsed;
        if (!document.RootElement.TryGetProperty("PeersChanged", out var peers) || peers.ValueKind != JsonValueKind.Array)
        {
            return false;
        }

        foreach (var peer in peers.EnumerateArray())
        {
            if (peer.TryGetProperty("Key", out var key) && key.ValueEquals(nodeKey)
                && peer.TryGetProperty("AllowedIPs", out var allowed) && allowed.ValueKind == JsonValueKind.Array
                && allowed.EnumerateArray().Any(ip => ip.ValueEquals(prefix)))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether the frame carries a packet filter (either wire form) whose every destination is <paramref name="port"/> only.</summary>
    public static bool HasFilterForPort(ReadOnlySpan<byte> json, int port)
    {
        if (json.IndexOf("\"PacketFilter"u8) < 0)
        {
            return false;
        }

        var reader = new Utf8JsonReader(json);
        if (!JsonDocument.TryParseValue(ref reader, out var parsed))
        {
            return false;
        }

        using var document = parsed;
        var root = document.RootElement;
        if (root.TryGetProperty("PacketFilter", out var rules) && rules.ValueKind == JsonValueKind.Array)
        {
            return OnlyPort(rules, port);
        }

        if (root.TryGetProperty("PacketFilters", out var named) && named.ValueKind == JsonValueKind.Object)
        {
            var any = false;
            foreach (var filter in named.EnumerateObject())
            {
                if (filter.Value.ValueKind == JsonValueKind.Array)
                {
                    if (!OnlyPort(filter.Value, port))
                    {
                        return false;
                    }

                    any = true;
                }
            }

            return any;
        }

        return false;
    }

    private static bool OnlyPort(JsonElement rules, int port)
    {
        var ports = 0;
        foreach (var rule in rules.EnumerateArray())
        {
            if (!rule.TryGetProperty("DstPorts", out var destinations) || destinations.ValueKind != JsonValueKind.Array)
            {
                continue;
            }

            foreach (var destination in destinations.EnumerateArray())
            {
                if (!destination.TryGetProperty("Ports", out var range)
                    || !range.TryGetProperty("First", out var first) || first.GetInt32() != port
                    || !range.TryGetProperty("Last", out var last) || last.GetInt32() != port)
                {
                    return false;
                }

                ports++;
            }
        }

        return ports > 0;
    }
}
