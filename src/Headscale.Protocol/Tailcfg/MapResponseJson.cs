using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace Headscale.Protocol.Tailcfg;

/// <summary>
/// Writes <see cref="MapResponse"/> and <see cref="MapNode"/> JSON with Go's field names and
/// omit rules, straight into a buffer (no intermediate object graph).
/// </summary>
public static class MapResponseJson
{
    private static readonly JsonWriterOptions Options = new() { SkipValidation = false, Indented = false };

    /// <summary>
    /// The JSON of each peer entry, kept as long as the entry itself (by reference). The network map renders a
    /// peer once and puts the same <see cref="MapNode"/> in every full map and delta that lists it, so each
    /// peer is serialised once, not once per viewer. Entries are immutable, so the bytes cannot go stale.
    /// </summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<MapNode, byte[]> PeerJson = new();

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<MapNode, byte[]>.CreateValueCallback EncodePeer = node =>
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer, Options))
        {
            WriteNode(writer, node);
        }

        return buffer.WrittenSpan.ToArray();
    };

    /// <summary>A peer entry's JSON, encoded once per <see cref="MapNode"/> instance.</summary>
    internal static byte[] PeerBytes(MapNode node) => PeerJson.GetValue(node, EncodePeer);

    public static void Write(IBufferWriter<byte> output, MapResponse response)
    {
        using var w = new Utf8JsonWriter(output, Options);
        w.WriteStartObject();
        if (response.KeepAlive)
        {
            w.WriteBoolean("KeepAlive", true);
        }

        if (response.ControlTime is { } time)
        {
            w.WriteString("ControlTime", FormatTime(time));
        }

        if (response.Node is { } node)
        {
            w.WritePropertyName("Node");
            WriteNode(w, node);
        }

        if (response.DerpMapRaw is { } derp)
        {
            w.WritePropertyName("DERPMap");
            w.WriteRawValue(derp.Span, skipInputValidation: true);
        }

        WriteNodes(w, "Peers", response.Peers);
        WriteNodes(w, "PeersChanged", response.PeersChanged);
        if (response.PeersRemoved is { IsDefaultOrEmpty: false } removed)
        {
            w.WriteStartArray("PeersRemoved");
            foreach (var id in removed)
            {
                w.WriteNumberValue(id);
            }

            w.WriteEndArray();
        }

        if (response.PeersChangedPatch is { IsDefaultOrEmpty: false } patches)
        {
            w.WriteStartArray("PeersChangedPatch");
            foreach (var patch in patches)
            {
                WritePatch(w, patch);
            }

            w.WriteEndArray();
        }

        if (response.OnlineChange is { Count: > 0 } online)
        {
            w.WriteStartObject("OnlineChange");
            foreach (var (id, isOnline) in online.OrderBy(p => p.Key))
            {
                w.WriteBoolean(id.ToString(CultureInfo.InvariantCulture), isOnline);
            }

            w.WriteEndObject();
        }

        if (response.DnsConfig is { } dns)
        {
            w.WritePropertyName("DNSConfig");
            JsonSerializer.Serialize(w, dns, TailcfgJsonContext.Default.DnsConfig);
        }

        if (response.Domain is { Length: > 0 } domain)
        {
            w.WriteString("Domain", domain);
        }

        if (response.CollectServices is { } collect)
        {
            w.WriteBoolean("CollectServices", collect);
        }

        if (response.PacketFilterRaw is { } filter)
        {
            w.WriteStartObject("PacketFilters");
            w.WritePropertyName("base");
            w.WriteRawValue(filter.Span, skipInputValidation: true);
            w.WriteEndObject();
        }

        if (response.UserProfiles is { IsDefaultOrEmpty: false } profiles)
        {
            w.WriteStartArray("UserProfiles");
            foreach (var profile in profiles)
            {
                JsonSerializer.Serialize(w, profile, TailcfgJsonContext.Default.UserProfile);
            }

            w.WriteEndArray();
        }

        if (response.SshPolicyRaw is { } ssh)
        {
            w.WritePropertyName("SSHPolicy");
            w.WriteRawValue(ssh.Span, skipInputValidation: true);
        }

        if (response.DisableLogTail is { } disable)
        {
            w.WriteStartObject("Debug");
            w.WriteBoolean("DisableLogTail", disable);
            w.WriteEndObject();
        }

        w.WriteEndObject();
    }

    public static byte[] ToUtf8(MapResponse response)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        Write(buffer, response);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>Encodes one node once; the bytes can be spliced into many viewers' responses.</summary>
    public static byte[] EncodeNode(MapNode node)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        using (var w = new Utf8JsonWriter(buffer, Options))
        {
            WriteNode(w, node);
        }

        return buffer.WrittenSpan.ToArray();
    }

    public static void WriteNode(Utf8JsonWriter w, MapNode n)
    {
        var id = n.Id.ToString(CultureInfo.InvariantCulture);
        w.WriteStartObject();
        w.WriteNumber("ID", n.Id);
        w.WriteString("StableID", id);
        w.WriteString("Name", n.Name);
        w.WriteNumber("User", n.User);
        w.WriteString("Key", n.Key);
        if (n.KeyExpiry is { } expiry)
        {
            w.WriteString("KeyExpiry", FormatTime(expiry));
        }

        w.WriteString("Machine", n.Machine);
        if (!string.IsNullOrEmpty(n.DiscoKey))
        {
            w.WriteString("DiscoKey", n.DiscoKey);
        }

        WriteStrings(w, "Addresses", n.Addresses, always: true);
        if (n.AllowedIPs is { } allowed)
        {
            WriteStrings(w, "AllowedIPs", allowed, always: true);
        }

        WriteStrings(w, "Endpoints", n.Endpoints, always: false);
        if (n.HomeDerp != 0)
        {
            w.WriteNumber("HomeDERP", n.HomeDerp);
            // Clients below capability 111 only read the legacy DERP string.
            w.WriteString("DERP", "127.3.3.40:" + n.HomeDerp.ToString(CultureInfo.InvariantCulture));
        }

        w.WritePropertyName("Hostinfo");
        w.WriteRawValue(n.Hostinfo.Span, skipInputValidation: true);
        if (n.Created != default)
        {
            w.WriteString("Created", FormatTime(n.Created));
        }

        WriteStrings(w, "Tags", n.Tags, always: false);
        WriteStrings(w, "PrimaryRoutes", n.PrimaryRoutes, always: false);
        if (n.LastSeen is { } seen)
        {
            w.WriteString("LastSeen", FormatTime(seen));
        }

        if (n.Online is { } online)
        {
            w.WriteBoolean("Online", online);
        }

        if (n.MachineAuthorized)
        {
            w.WriteBoolean("MachineAuthorized", true);
        }

        if (!n.CapMap.IsEmpty)
        {
            w.WritePropertyName("CapMap");
            w.WriteRawValue(n.CapMap.Span, skipInputValidation: true);
        }

        if (n.Expired)
        {
            w.WriteBoolean("Expired", true);
        }

        w.WriteEndObject();
    }

    /// <summary>RFC 3339 in UTC with Go's trimmed fractional seconds.</summary>
    public static string FormatTime(DateTimeOffset time) =>
        time.UtcDateTime.ToString(time.Ticks % TimeSpan.TicksPerSecond == 0 ? "yyyy-MM-dd'T'HH:mm:ss'Z'" : "yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture);

    private static void WriteNodes(Utf8JsonWriter w, string name, System.Collections.Immutable.ImmutableArray<MapNode>? nodes)
    {
        if (nodes is not { IsDefaultOrEmpty: false } list)
        {
            return;
        }

        w.WriteStartArray(name);
        foreach (var node in list.OrderBy(n => n.Id))
        {
            w.WriteRawValue(PeerJson.GetValue(node, EncodePeer), skipInputValidation: true);
        }

        w.WriteEndArray();
    }

    private static void WritePatch(Utf8JsonWriter w, PeerChange p)
    {
        w.WriteStartObject();
        w.WriteNumber("NodeID", p.NodeId);
        if (p.DerpRegion != 0)
        {
            w.WriteNumber("DERPRegion", p.DerpRegion);
        }

        if (p.Endpoints is { IsDefaultOrEmpty: false } endpoints)
        {
            WriteStrings(w, "Endpoints", endpoints, always: false);
        }

        if (p.Key is { Length: > 0 } key)
        {
            w.WriteString("Key", key);
        }

        if (p.DiscoKey is { Length: > 0 } disco)
        {
            w.WriteString("DiscoKey", disco);
        }

        if (p.Online is { } online)
        {
            w.WriteBoolean("Online", online);
        }

        if (p.LastSeen is { } seen)
        {
            w.WriteString("LastSeen", FormatTime(seen));
        }

        if (p.KeyExpiry is { } expiry)
        {
            w.WriteString("KeyExpiry", FormatTime(expiry));
        }

        w.WriteEndObject();
    }

    private static void WriteStrings(Utf8JsonWriter w, string name, System.Collections.Immutable.ImmutableArray<string> values, bool always)
    {
        if (values.IsDefaultOrEmpty && !always)
        {
            return;
        }

        w.WriteStartArray(name);
        if (!values.IsDefault)
        {
            foreach (var value in values)
            {
                w.WriteStringValue(value);
            }
        }

        w.WriteEndArray();
    }
}
