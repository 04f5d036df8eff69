using System.Collections.Immutable;
using System.Text.Json;

namespace Headscale.Policy;

/// <summary>
/// Which nodes must be sent a new netmap when the compiled policy changes (new policy text, or a new snapshot):
/// the nodes whose packet filter, SSH policy or peer set differ. Nodes that are new in <c>after</c> count as
/// changed. Each node is compared on its own outputs, so the cost is one per-node compilation on each side.
/// </summary>
public static class PolicyDiff
{
    public static ImmutableArray<ulong> ChangedNodes(CompiledPolicy before, CompiledPolicy after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        var known = before.Index.Nodes.Select(n => n.Id).ToHashSet();
        var changed = ImmutableArray.CreateBuilder<ulong>();
        foreach (var node in after.Index.Nodes)
        {
            if (!known.Contains(node.Id) || !SameOutputs(before, after, node.Id)) changed.Add(node.Id);
        }
        return changed.ToImmutable();
    }

    public static bool SameOutputs(CompiledPolicy before, CompiledPolicy after, ulong nodeId) =>
        JsonSerializer.Serialize(before.PacketFilter(nodeId), WireJsonContext.Default.ImmutableArrayFilterRule)
            == JsonSerializer.Serialize(after.PacketFilter(nodeId), WireJsonContext.Default.ImmutableArrayFilterRule)
        && JsonSerializer.Serialize(before.SshRules(nodeId), WireJsonContext.Default.ImmutableArraySshRule)
            == JsonSerializer.Serialize(after.SshRules(nodeId), WireJsonContext.Default.ImmutableArraySshRule)
        && before.Peers(nodeId).Select(p => p.Id).Order().SequenceEqual(after.Peers(nodeId).Select(p => p.Id).Order());
}
