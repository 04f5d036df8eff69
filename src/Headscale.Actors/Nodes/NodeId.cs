using System.Globalization;

namespace Headscale.Actors.Nodes;

/// <summary>The stable numeric id of a node; its decimal form is the shard entity id.</summary>
public readonly record struct NodeId(ulong Value)
{
    public override string ToString() => Value.ToString(CultureInfo.InvariantCulture);
}
