using System.Buffers;
using System.Collections.Immutable;
using System.Net;
using System.Text;
using System.Text.Json;
using Headscale.Policy.Snapshot;

namespace Headscale.Policy;

/// <summary>
/// <c>headscale policy evaluate --scenario FILE</c>: reads one conformance scenario (only its <c>policy</c>,
/// <c>users</c>, <c>nodes</c> and <c>tailnet</c>), compiles the policy over that tailnet and prints
/// <c>{"error": …, "nodes": {name: {packet_filter_rules, ssh_rules, peers, node, approvable_routes}}}</c>.
/// </summary>
public static class ScenarioEvaluator
{
    /// <summary>Throws <see cref="FormatException"/> when the scenario file itself is malformed.</summary>
    public static string Evaluate(string scenarioJson)
    {
        using var doc = JsonDocument.Parse(scenarioJson);
        var root = doc.RootElement;
        var policyText = Required(root, "policy").GetString() ?? throw new FormatException("scenario: \"policy\" must be a string");
        var snapshot = ReadSnapshot(root);
        var check = PolicyChecker.Check(policyText, snapshot, snapshot.AssociatedDomains);

        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            if (check.Policy is null)
            {
                w.WriteString("error", check.ErrorMessage);
                w.WriteStartObject("nodes");
                w.WriteEndObject();
            }
            else
            {
                w.WriteNull("error");
                WriteNodes(w, CompiledPolicy.Compile(check.Policy, snapshot));
            }
            w.WriteEndObject();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static JsonElement Required(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) ? v : throw new FormatException($"scenario: missing \"{name}\"");

    public static TailnetSnapshot ReadSnapshot(JsonElement root)
    {
        var users = ImmutableArray.CreateBuilder<TailnetUser>();
        foreach (var u in Required(root, "users").EnumerateArray())
            users.Add(new TailnetUser(Required(u, "id").GetUInt64(), Required(u, "name").GetString() ?? "", u.TryGetProperty("email", out var e) ? e.GetString() ?? "" : ""));
        var nodes = ImmutableArray.CreateBuilder<TailnetNode>();
        ulong id = 0;
        foreach (var n in Required(root, "nodes").EnumerateArray())
        {
            id++;
            nodes.Add(new TailnetNode(
                id,
                Required(n, "name").GetString() ?? "",
                n.TryGetProperty("user", out var user) && user.ValueKind == JsonValueKind.String ? user.GetString() : null,
                Strings(n, "tags"),
                Address(n, "ipv4"),
                Address(n, "ipv6"),
                [.. Strings(n, "routable_ips").Select(IPNetwork.Parse)],
                [.. Strings(n, "approved_routes").Select(IPNetwork.Parse)],
                n.TryGetProperty("order", out var order) && order.ValueKind == JsonValueKind.Number ? order.GetInt64() : (long)id));
        }
        var owner = root.TryGetProperty("tailnet", out var t) && t.TryGetProperty("name", out var name) ? name.GetString() ?? "" : "";
        var at = owner.IndexOf('@');
        ImmutableArray<string> domains = at >= 0 ? [owner[(at + 1)..]] : [];
        var autoUpdate = t.ValueKind == JsonValueKind.Object && t.TryGetProperty("settings", out var settings)
            && settings.TryGetProperty("devices_auto_updates_on", out var au) && au.ValueKind == JsonValueKind.True;
        return new TailnetSnapshot(users.ToImmutable(), nodes.ToImmutable(), domains) { DevicesAutoUpdate = autoUpdate, OwnerEmail = owner };
    }

    private static ImmutableArray<string> Strings(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Array
            ? [.. v.EnumerateArray().Select(x => x.GetString() ?? "")]
            : [];

    private static IPAddress? Address(JsonElement obj, string name) =>
        obj.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String && IPAddress.TryParse(v.GetString(), out var ip) ? ip : null;

    private static void WriteNodes(Utf8JsonWriter w, CompiledPolicy compiled)
    {
        w.WriteStartObject("nodes");
        foreach (var node in compiled.Index.Nodes)
        {
            w.WriteStartObject(node.Name);
            w.WritePropertyName("packet_filter_rules");
            JsonSerializer.Serialize(w, compiled.PacketFilter(node.Id), WireJsonContext.Default.ImmutableArrayFilterRule);
            w.WritePropertyName("ssh_rules");
            JsonSerializer.Serialize(w, compiled.SshRules(node.Id), WireJsonContext.Default.ImmutableArraySshRule);
            w.WriteStartArray("peers");
            foreach (var peer in compiled.Peers(node.Id).OrderBy(p => p.Name, StringComparer.Ordinal))
            {
                w.WriteStartObject();
                w.WriteString("name", peer.Name);
                WriteView(w, compiled.PeerView(node.Id, peer.Id), compiled.PeerCapabilities(peer.Id));
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteStartObject("node");
            WriteView(w, compiled.SelfView(node.Id), compiled.Capabilities(node.Id));
            w.WriteEndObject();
            WritePrefixes(w, "approvable_routes", compiled.ApprovableRoutes(node.Id));
            w.WriteEndObject();
        }
        w.WriteEndObject();
    }

    private static void WriteView(Utf8JsonWriter w, Compilation.NodeView view, ImmutableSortedDictionary<string, ImmutableArray<JsonElement>>? caps)
    {
        WritePrefixes(w, "allowed_ips", view.AllowedIPs);
        WritePrefixes(w, "primary_routes", view.PrimaryRoutes);
        WritePrefixes(w, "addresses", view.Addresses);
        w.WriteStartObject("cap_map");
        foreach (var (name, values) in caps ?? ImmutableSortedDictionary<string, ImmutableArray<JsonElement>>.Empty)
        {
            w.WriteStartArray(name);
            foreach (var v in values) v.WriteTo(w);
            w.WriteEndArray();
        }
        w.WriteEndObject();
    }

    private static void WritePrefixes(Utf8JsonWriter w, string name, IEnumerable<IPNetwork> prefixes)
    {
        w.WriteStartArray(name);
        foreach (var p in prefixes) w.WriteStringValue(p.ToString());
        w.WriteEndArray();
    }
}
