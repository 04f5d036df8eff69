using System.Globalization;
using System.Text.Json;
using Headscale.Policy.Model;

namespace Headscale.Policy.Tests.Conformance;

/// <summary>
/// Judges one evaluator output against a scenario's expectations, by the rules of the corpus README:
/// rule order counts, SrcIPs/DstPorts/IPProto/principals are multisets of literal values, prefixes are
/// compared canonically, zero values equal absent ones, and some capabilities are ignored.
/// Returns null when the scenario passes, otherwise the first difference.
/// </summary>
public static class ConformanceJudge
{
    private static readonly HashSet<string> IgnoredCaps =
    [
        "https://tailscale.com/cap/is-admin", "https://tailscale.com/cap/is-owner", "https://tailscale.com/cap/tailnet-lock",
        "https://tailscale.com/cap/warn-funnel-no-https", "service-host", "store-appc-routes", "tailnet-display-name",
        "tailnet.maxKeyDuration", "native-ipv4", "probe-udp-lifetime", "ssh-behavior-v1", "ssh-env-vars",
    ];

    public static string? Judge(JsonElement scenario, JsonElement output)
    {
        var status = scenario.GetProperty("status").GetInt32();
        var error = output.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String ? e.GetString() : null;
        if (status != 200)
        {
            if (string.IsNullOrEmpty(error)) return $"expected rejection ({scenario.GetProperty("error")}), policy was accepted";
            var match = scenario.TryGetProperty("error_match", out var m) ? m.GetString() : "substring";
            var expected = scenario.GetProperty("error").GetString() ?? "";
            return match == "substring" && !error.Contains(expected, StringComparison.Ordinal)
                ? $"error {Short(error)} does not contain {Short(expected)}"
                : null;
        }
        if (!string.IsNullOrEmpty(error)) return $"policy rejected: {Short(error)}";
        var nodes = output.GetProperty("nodes");
        foreach (var expectNode in scenario.GetProperty("expect").EnumerateObject())
        {
            if (!nodes.TryGetProperty(expectNode.Name, out var actual)) return $"{expectNode.Name}: node missing";
            foreach (var field in expectNode.Value.EnumerateObject())
            {
                var got = actual.TryGetProperty(field.Name, out var g) ? g : default;
                var diff = field.Name switch
                {
                    "packet_filter_rules" => CompareFilters(field.Value, got),
                    "ssh_rules" => CompareSsh(field.Value, got),
                    "peers" => ComparePeers(field.Value, got),
                    "node" => CompareView(field.Value, got),
                    "approvable_routes" => SamePrefixes(field.Value, got) ? null : $"approvable_routes {Raw(field.Value)} != {Raw(got)}",
                    _ => null,
                };
                if (diff is not null) return $"{expectNode.Name}.{field.Name}: {diff}";
            }
        }
        return null;
    }

    private static string Short(string s, int max = 160) => s.Length > max ? s[..max] + "…" : s;

    private static string Raw(JsonElement e) => e.ValueKind == JsonValueKind.Undefined ? "(absent)" : Short(JsonSerializer.Serialize(e), 600);

    private static IEnumerable<JsonElement> Items(JsonElement e) =>
        e.ValueKind == JsonValueKind.Array ? e.EnumerateArray() : [];

    private static JsonElement Field(JsonElement obj, string name) =>
        obj.ValueKind == JsonValueKind.Object && obj.TryGetProperty(name, out var v) ? v : default;

    private static bool SameMultiset(IEnumerable<string> a, IEnumerable<string> b) =>
        a.Order(StringComparer.Ordinal).SequenceEqual(b.Order(StringComparer.Ordinal), StringComparer.Ordinal);

    private static string? CompareFilters(JsonElement expected, JsonElement actual)
    {
        var exp = Items(expected).ToList();
        var act = Items(actual).ToList();
        if (exp.Count != act.Count) return $"{act.Count} rules, expected {exp.Count}: expected {Raw(expected)} got {Raw(actual)}";
        for (var i = 0; i < exp.Count; i++)
        {
            var (x, y) = (exp[i], act[i]);
            if (!SameMultiset(Items(Field(x, "SrcIPs")).Select(s => s.GetString()!), Items(Field(y, "SrcIPs")).Select(s => s.GetString()!)))
                return $"rule {i} SrcIPs: expected {Raw(Field(x, "SrcIPs"))} got {Raw(Field(y, "SrcIPs"))}";
            static string Port(JsonElement p) => $"{p.GetProperty("IP").GetString()}:{p.GetProperty("Ports").GetProperty("First")}-{p.GetProperty("Ports").GetProperty("Last")}";
            if (!SameMultiset(Items(Field(x, "DstPorts")).Select(Port), Items(Field(y, "DstPorts")).Select(Port)))
                return $"rule {i} DstPorts: expected {Raw(Field(x, "DstPorts"))} got {Raw(Field(y, "DstPorts"))}";
            if (!SameMultiset(Items(Field(x, "IPProto")).Select(p => p.GetRawText()), Items(Field(y, "IPProto")).Select(p => p.GetRawText())))
                return $"rule {i} IPProto: expected {Raw(Field(x, "IPProto"))} got {Raw(Field(y, "IPProto"))}";
            var cx = Items(Field(x, "CapGrant")).ToList();
            var cy = Items(Field(y, "CapGrant")).ToList();
            if (cx.Count != cy.Count) return $"rule {i} CapGrant count {cy.Count}, expected {cx.Count}";
            for (var j = 0; j < cx.Count; j++)
            {
                if (!SamePrefixes(Field(cx[j], "Dsts"), Field(cy[j], "Dsts"))) return $"rule {i} CapGrant {j} Dsts: expected {Raw(Field(cx[j], "Dsts"))} got {Raw(Field(cy[j], "Dsts"))}";
                if (!SameCapMap(Field(cx[j], "CapMap"), Field(cy[j], "CapMap"), ignore: false)) return $"rule {i} CapGrant {j} CapMap: expected {Raw(Field(cx[j], "CapMap"))} got {Raw(Field(cy[j], "CapMap"))}";
            }
        }
        return null;
    }

    private static string? CompareSsh(JsonElement expected, JsonElement actual)
    {
        var exp = Items(expected).ToList();
        var act = Items(actual).ToList();
        if (exp.Count != act.Count) return $"{act.Count} rules, expected {exp.Count}: expected {Raw(expected)} got {Raw(actual)}";
        for (var i = 0; i < exp.Count; i++)
        {
            var (x, y) = (exp[i], act[i]);
            if (!SameMultiset(Items(Field(x, "principals")).Select(p => p.GetRawText()), Items(Field(y, "principals")).Select(p => p.GetRawText())))
                return $"rule {i} principals: expected {Raw(Field(x, "principals"))} got {Raw(Field(y, "principals"))}";
            if (!SameStringMap(Field(x, "sshUsers"), Field(y, "sshUsers"))) return $"rule {i} sshUsers: expected {Raw(Field(x, "sshUsers"))} got {Raw(Field(y, "sshUsers"))}";
            if (!SameZeroed(Field(x, "action"), Field(y, "action"))) return $"rule {i} action: expected {Raw(Field(x, "action"))} got {Raw(Field(y, "action"))}";
            if (!Items(Field(x, "acceptEnv")).Select(s => s.GetString()).SequenceEqual(Items(Field(y, "acceptEnv")).Select(s => s.GetString())))
                return $"rule {i} acceptEnv: expected {Raw(Field(x, "acceptEnv"))} got {Raw(Field(y, "acceptEnv"))}";
        }
        return null;
    }

    private static string? ComparePeers(JsonElement expected, JsonElement actual)
    {
        var exp = Items(expected).ToDictionary(p => p.GetProperty("name").GetString()!);
        var act = Items(actual).ToDictionary(p => p.GetProperty("name").GetString()!);
        var missing = exp.Keys.Except(act.Keys).ToList();
        var extra = act.Keys.Except(exp.Keys).ToList();
        if (missing.Count > 0 || extra.Count > 0) return $"missing [{string.Join(",", missing)}] extra [{string.Join(",", extra)}]";
        foreach (var (name, e) in exp)
        {
            var diff = CompareView(e, act[name]);
            if (diff is not null) return $"peer {name}: {diff}";
        }
        return null;
    }

    private static string? CompareView(JsonElement expected, JsonElement actual)
    {
        foreach (var f in new[] { "allowed_ips", "primary_routes", "addresses" })
            if (expected.TryGetProperty(f, out var ev) && !SamePrefixes(ev, Field(actual, f)))
                return $"{f}: expected {Raw(ev)} got {Raw(Field(actual, f))}";
        if (expected.TryGetProperty("cap_map", out var cm) && !SameCapMap(cm, Field(actual, "cap_map"), ignore: true))
            return $"cap_map: expected {Raw(cm)} got {Raw(Field(actual, "cap_map"))}";
        return null;
    }

    private static bool SamePrefixes(JsonElement a, JsonElement b)
    {
        static string Canon(JsonElement e)
        {
            var s = e.GetString()!;
            return Alias.TryParsePrefix(s, out var p, out _) ? p.ToString() : s;
        }
        return Items(a).Select(Canon).ToHashSet().SetEquals(Items(b).Select(Canon));
    }

    private static bool SameCapMap(JsonElement a, JsonElement b, bool ignore)
    {
        Dictionary<string, JsonElement> Map(JsonElement e) => e.ValueKind != JsonValueKind.Object ? [] :
            e.EnumerateObject().Where(p => !ignore || (!IgnoredCaps.Contains(p.Name) && !p.Name.StartsWith("https://tailscale.com/cap/funnel-ports?", StringComparison.Ordinal)))
                .ToDictionary(p => p.Name, p => p.Value);
        var (x, y) = (Map(a), Map(b));
        if (!x.Keys.ToHashSet().SetEquals(y.Keys)) return false;
        return x.All(kv => JsonEqual(kv.Value, y[kv.Key], emptyEqualsNull: true));
    }

    private static bool SameStringMap(JsonElement a, JsonElement b)
    {
        Dictionary<string, string> Map(JsonElement e) => e.ValueKind != JsonValueKind.Object ? [] : e.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "");
        var (x, y) = (Map(a), Map(b));
        return x.Count == y.Count && x.All(kv => y.TryGetValue(kv.Key, out var v) && v == kv.Value);
    }

    private static bool IsZero(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Undefined or JsonValueKind.Null or JsonValueKind.False => true,
        JsonValueKind.String => e.GetString()!.Length == 0,
        JsonValueKind.Number => e.GetDecimal() == 0,
        JsonValueKind.Array => e.GetArrayLength() == 0,
        JsonValueKind.Object => !e.EnumerateObject().Any(),
        _ => false,
    };

    private static bool SameZeroed(JsonElement a, JsonElement b)
    {
        var names = new HashSet<string>();
        if (a.ValueKind == JsonValueKind.Object) foreach (var p in a.EnumerateObject()) names.Add(p.Name);
        if (b.ValueKind == JsonValueKind.Object) foreach (var p in b.EnumerateObject()) names.Add(p.Name);
        foreach (var n in names)
        {
            var (x, y) = (Field(a, n), Field(b, n));
            if (IsZero(x) && IsZero(y)) continue;
            if (!JsonEqual(x, y, emptyEqualsNull: true)) return false;
        }
        return true;
    }

    public static bool JsonEqual(JsonElement a, JsonElement b, bool emptyEqualsNull)
    {
        if (emptyEqualsNull && IsEmptyOrNull(a) && IsEmptyOrNull(b)) return true;
        if (a.ValueKind != b.ValueKind) return false;
        switch (a.ValueKind)
        {
            case JsonValueKind.Object:
                var pa = a.EnumerateObject().ToDictionary(p => p.Name, p => p.Value);
                var pb = b.EnumerateObject().ToDictionary(p => p.Name, p => p.Value);
                return pa.Count == pb.Count && pa.All(kv => pb.TryGetValue(kv.Key, out var v) && JsonEqual(kv.Value, v, false));
            case JsonValueKind.Array:
                return a.GetArrayLength() == b.GetArrayLength() && a.EnumerateArray().Zip(b.EnumerateArray()).All(t => JsonEqual(t.First, t.Second, false));
            case JsonValueKind.Number:
                return decimal.Parse(a.GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture) == decimal.Parse(b.GetRawText(), NumberStyles.Float, CultureInfo.InvariantCulture);
            case JsonValueKind.String: return a.GetString() == b.GetString();
            default: return true;
        }
    }

    private static bool IsEmptyOrNull(JsonElement e) =>
        e.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined || (e.ValueKind == JsonValueKind.Array && e.GetArrayLength() == 0);
}
