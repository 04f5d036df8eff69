using System.Collections.Immutable;
using System.Text.Json;

namespace Headscale.Protocol.Tailcfg;

/// <summary>
/// The few <c>Hostinfo</c> fields the server acts on, extracted from the raw JSON the client sent.
/// The raw JSON itself is what peers receive (<see cref="Raw"/>), so unknown fields survive.
/// </summary>
public sealed record HostinfoSummary(
    string Hostname,
    string OS,
    ImmutableArray<string> RoutableIPs,
    ImmutableArray<string> RequestTags,
    int PreferredDerp,
    ReadOnlyMemory<byte> Raw)
{
    public static readonly HostinfoSummary Empty = new("", "", [], [], 0, "{}"u8.ToArray());

    /// <summary>Largest Hostinfo we keep; real ones are a few KiB.</summary>
    public const int MaxRawBytes = 64 * 1024;

    /// <summary>Reads a client's Hostinfo; null or a non-object is treated as empty.</summary>
    public static bool TryParse(JsonElement? element, out HostinfoSummary summary, out string? error)
    {
        summary = Empty;
        error = null;
        if (element is not { } e || e.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (e.ValueKind != JsonValueKind.Object)
        {
            error = "Hostinfo must be a JSON object";
            return false;
        }

        var raw = JsonSerializer.SerializeToUtf8Bytes(e, TailcfgJsonContext.Default.JsonElement);
        if (raw.Length > MaxRawBytes)
        {
            error = $"Hostinfo is larger than {MaxRawBytes} bytes";
            return false;
        }

        summary = new HostinfoSummary(
            String(e, "Hostname"),
            String(e, "OS"),
            Strings(e, "RoutableIPs"),
            Strings(e, "RequestTags"),
            e.TryGetProperty("NetInfo", out var netInfo) && netInfo.ValueKind == JsonValueKind.Object
                && netInfo.TryGetProperty("PreferredDERP", out var derp) && derp.TryGetInt32(out var region)
                ? region
                : 0,
            raw);
        return true;
    }

    private static string String(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "";

    private static ImmutableArray<string> Strings(JsonElement e, string name) =>
        e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array
            ? v.EnumerateArray().Where(i => i.ValueKind == JsonValueKind.String).Select(i => i.GetString()!).ToImmutableArray()
            : [];
}
