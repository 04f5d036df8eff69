using System.Collections.Immutable;
using Headscale.Actors.Addressing;
using Headscale.Actors.Nodes.Messages;
using static Headscale.Actors.Nodes.Messages.NodeRegistryCommands;
using static Headscale.Actors.Nodes.Messages.NodeRegistryEvents;

namespace Headscale.Actors.Nodes;

/// <summary>
/// The node registry's state: one entry per node and the secondary indexes that make node keys,
/// addresses and given names unique. <see cref="Decide"/> is pure but for the <see cref="Random"/>
/// it is handed (random allocation); the chosen addresses are in the event, so replay is exact.
/// </summary>
public sealed record NodeRegistryState(
    ImmutableDictionary<NodeId, NodeIndexEntry> Nodes,
    ImmutableDictionary<string, NodeId> ByNodeKey,
    ImmutableDictionary<string, ImmutableArray<NodeId>> ByMachineKey,
    ImmutableDictionary<string, NodeId> ByAddress,
    ImmutableDictionary<string, NodeId> ByGivenName,
    string LastIPv4,
    string LastIPv6)
{
    /// <summary>Highest numeric suffix seen per given-name base; only a search hint, rebuilt from the entries.</summary>
    public ImmutableDictionary<string, int> SuffixHints { get; init; } = ImmutableDictionary<string, int>.Empty.WithComparers(StringComparer.Ordinal);

    public static readonly NodeRegistryState Empty = new(
        ImmutableDictionary<NodeId, NodeIndexEntry>.Empty,
        ImmutableDictionary<string, NodeId>.Empty.WithComparers(StringComparer.Ordinal),
        ImmutableDictionary<string, ImmutableArray<NodeId>>.Empty.WithComparers(StringComparer.Ordinal),
        ImmutableDictionary<string, NodeId>.Empty.WithComparers(StringComparer.Ordinal),
        ImmutableDictionary<string, NodeId>.Empty.WithComparers(StringComparer.Ordinal),
        "",
        "");

    public ImmutableArray<NodeIndexEntry> ByMachine(MachineKey key) =>
        ByMachineKey.TryGetValue(key.Value, out var ids) ? [.. ids.Select(id => Nodes[id])] : [];

    public NodeIndexEntry? ByKey(NodeKey key) => ByNodeKey.TryGetValue(key.Value, out var id) ? Nodes[id] : null;

    public NodeRegistrySnapshot ToSnapshot() => new([.. Nodes.Values.OrderBy(n => n.Id.Value)], LastIPv4, LastIPv6);

    public static NodeRegistryState FromSnapshot(NodeRegistrySnapshot snapshot) =>
        snapshot.Entries.Aggregate(Empty, (s, e) => s.Add(e)) with { LastIPv4 = snapshot.LastIPv4, LastIPv6 = snapshot.LastIPv6 };

    public static Decision<INodeRegistryEvent> Decide(
        NodeRegistryState state, INodeRegistryCommand command, AddressingSettings addressing, Random random) => command switch
    {
        ReserveNode c => DecideReserve(state, c, addressing, random),
        RebindNode c => DecideRebind(state, c),
        ChangeGivenName c => DecideRename(state, c),
        ChangeOwner c => !state.Nodes.TryGetValue(c.Id, out var owned)
            ? Decision<INodeRegistryEvent>.Reject(ResultCode.NotFound, Errors.NodeNotFound)
            : owned.User == c.User
                ? Decision<INodeRegistryEvent>.NoOp()
                : Decision<INodeRegistryEvent>.Accept(new OwnerChanged(c.Id, c.User, c.Now, c.Cause)),
        BackfillAddresses c => DecideBackfill(state, c, addressing, random),
        ReleaseNode c => state.Nodes.ContainsKey(c.Id)
            ? Decision<INodeRegistryEvent>.Accept(new NodeReleased(c.Id, c.Now, c.Cause))
            : Decision<INodeRegistryEvent>.NoOp(),
        _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "unknown registry command"),
    };

    public static NodeRegistryState Apply(NodeRegistryState state, INodeRegistryEvent e) => e switch
    {
        NodeReserved r => state.Add(new NodeIndexEntry(r.Id, r.MachineKey, r.NodeKey, r.User, r.GivenName, r.IPv4, r.IPv6, r.Ephemeral)) with
        {
            LastIPv4 = r.IPv4.Length > 0 ? r.IPv4 : state.LastIPv4,
            LastIPv6 = r.IPv6.Length > 0 ? r.IPv6 : state.LastIPv6,
        },
        NodeRebound b => state.Remove(b.Id).Add(state.Nodes[b.Id] with { NodeKey = b.NodeKey, Ephemeral = b.Ephemeral }),
        GivenNameChanged g => state.Remove(g.Id).Add(state.Nodes[g.Id] with { GivenName = g.GivenName }),
        NodeReleased r => state.Remove(r.Id),
        OwnerChanged o => state.Remove(o.Id).Add(state.Nodes[o.Id] with { User = o.User }),
        AddressesBackfilled b => state.Remove(b.Id).Add(Backfilled(state.Nodes[b.Id], b)) with
        {
            LastIPv4 = b.IPv4.Length > 0 ? b.IPv4 : state.LastIPv4,
            LastIPv6 = b.IPv6.Length > 0 ? b.IPv6 : state.LastIPv6,
        },
        _ => throw new ArgumentOutOfRangeException(nameof(e), e.GetType().Name, "unknown registry event"),
    };

    private static Decision<INodeRegistryEvent> DecideReserve(
        NodeRegistryState state, ReserveNode c, AddressingSettings addressing, Random random)
    {
        if (state.Nodes.TryGetValue(c.Id, out var existing))
        {
            return existing.NodeKey == c.NodeKey && existing.MachineKey == c.MachineKey
                ? Decision<INodeRegistryEvent>.NoOp()
                : Decision<INodeRegistryEvent>.Reject(ResultCode.Conflict, $"node id {c.Id} is taken");
        }

        if (state.ByNodeKey.ContainsKey(c.NodeKey.Value))
        {
            return Decision<INodeRegistryEvent>.Reject(ResultCode.Conflict, "node key is already registered to another node");
        }

        var v4 = "";
        if (addressing.V4 is { } prefix4
            && (v4 = AddressAllocator.Allocate(prefix4, state.ByAddress.ContainsKey, state.LastIPv4, addressing.Strategy, random) ?? "").Length == 0)
        {
            return Decision<INodeRegistryEvent>.Reject(ResultCode.Conflict, Errors.AddressesExhausted);
        }

        var v6 = "";
        if (addressing.V6 is { } prefix6
            && (v6 = AddressAllocator.Allocate(prefix6, state.ByAddress.ContainsKey, state.LastIPv6, addressing.Strategy, random) ?? "").Length == 0)
        {
            return Decision<INodeRegistryEvent>.Reject(ResultCode.Conflict, Errors.AddressesExhausted);
        }

        var baseName = GivenNames.Sanitise(c.Hostname);
        var givenName = GivenNames.Unique(baseName, state.ByGivenName.ContainsKey, state.SuffixHints.GetValueOrDefault(baseName) + 1);
        return Decision<INodeRegistryEvent>.Accept(
            new NodeReserved(c.Id, c.MachineKey, c.NodeKey, c.User, givenName, v4, v6, c.Ephemeral, c.Now, c.Cause));
    }

    private static NodeIndexEntry Backfilled(NodeIndexEntry entry, AddressesBackfilled b) =>
        entry with { IPv4 = entry.IPv4.Length > 0 ? entry.IPv4 : b.IPv4, IPv6 = entry.IPv6.Length > 0 ? entry.IPv6 : b.IPv6 };

    private static Decision<INodeRegistryEvent> DecideBackfill(
        NodeRegistryState state, BackfillAddresses c, AddressingSettings addressing, Random random)
    {
        if (!state.Nodes.TryGetValue(c.Id, out var entry))
        {
            return Decision<INodeRegistryEvent>.Reject(ResultCode.NotFound, Errors.NodeNotFound);
        }

        var v4 = "";
        if (entry.IPv4.Length == 0 && addressing.V4 is { } prefix4
            && (v4 = AddressAllocator.Allocate(prefix4, state.ByAddress.ContainsKey, state.LastIPv4, addressing.Strategy, random) ?? "").Length == 0)
        {
            return Decision<INodeRegistryEvent>.Reject(ResultCode.Conflict, Errors.AddressesExhausted);
        }

        var v6 = "";
        if (entry.IPv6.Length == 0 && addressing.V6 is { } prefix6
            && (v6 = AddressAllocator.Allocate(prefix6, state.ByAddress.ContainsKey, state.LastIPv6, addressing.Strategy, random) ?? "").Length == 0)
        {
            return Decision<INodeRegistryEvent>.Reject(ResultCode.Conflict, Errors.AddressesExhausted);
        }

        return v4.Length == 0 && v6.Length == 0
            ? Decision<INodeRegistryEvent>.NoOp()
            : Decision<INodeRegistryEvent>.Accept(new AddressesBackfilled(c.Id, v4, v6, c.Now, c.Cause));
    }

    private static Decision<INodeRegistryEvent> DecideRebind(NodeRegistryState state, RebindNode c)
    {
        if (!state.Nodes.TryGetValue(c.Id, out var entry))
        {
            return Decision<INodeRegistryEvent>.Reject(ResultCode.NotFound, Errors.NodeNotFound);
        }

        if (state.ByNodeKey.TryGetValue(c.NodeKey.Value, out var holder) && holder != c.Id)
        {
            return Decision<INodeRegistryEvent>.Reject(ResultCode.Conflict, "node key is already registered to another node");
        }

        return entry.NodeKey == c.NodeKey && entry.Ephemeral == c.Ephemeral
            ? Decision<INodeRegistryEvent>.NoOp()
            : Decision<INodeRegistryEvent>.Accept(new NodeRebound(c.Id, c.NodeKey, c.Ephemeral, c.Now, c.Cause));
    }

    private static Decision<INodeRegistryEvent> DecideRename(NodeRegistryState state, ChangeGivenName c)
    {
        if (!state.Nodes.TryGetValue(c.Id, out var entry))
        {
            return Decision<INodeRegistryEvent>.Reject(ResultCode.NotFound, Errors.NodeNotFound);
        }

        if (!GivenNames.IsValid(c.GivenName))
        {
            return Decision<INodeRegistryEvent>.Reject(
                ResultCode.BadRequest, $"'{c.GivenName}' is not a valid name: lower-case letters, digits and '-', at most 63 characters");
        }

        if (entry.GivenName == c.GivenName)
        {
            return Decision<INodeRegistryEvent>.NoOp();
        }

        return state.ByGivenName.ContainsKey(c.GivenName)
            ? Decision<INodeRegistryEvent>.Reject(ResultCode.Conflict, Errors.GivenNameTaken)
            : Decision<INodeRegistryEvent>.Accept(new GivenNameChanged(c.Id, c.GivenName, c.Now, c.Cause));
    }

    private NodeRegistryState Add(NodeIndexEntry entry)
    {
        var addresses = ByAddress;
        if (entry.IPv4.Length > 0)
        {
            addresses = addresses.SetItem(entry.IPv4, entry.Id);
        }

        if (entry.IPv6.Length > 0)
        {
            addresses = addresses.SetItem(entry.IPv6, entry.Id);
        }

        var machine = ByMachineKey.TryGetValue(entry.MachineKey.Value, out var ids) ? ids : [];
        var hints = GivenNameSuffix.TrySplit(entry.GivenName, out var nameBase, out var suffix) && suffix > SuffixHints.GetValueOrDefault(nameBase)
            ? SuffixHints.SetItem(nameBase, suffix)
            : SuffixHints;
        return this with
        {
            SuffixHints = hints,
            Nodes = Nodes.SetItem(entry.Id, entry),
            ByNodeKey = ByNodeKey.SetItem(entry.NodeKey.Value, entry.Id),
            ByMachineKey = ByMachineKey.SetItem(entry.MachineKey.Value, machine.Contains(entry.Id) ? machine : machine.Add(entry.Id)),
            ByAddress = addresses,
            ByGivenName = ByGivenName.SetItem(entry.GivenName, entry.Id),
        };
    }

    private NodeRegistryState Remove(NodeId id)
    {
        if (!Nodes.TryGetValue(id, out var entry))
        {
            return this;
        }

        var machine = ByMachineKey[entry.MachineKey.Value].Remove(id);
        return this with
        {
            Nodes = Nodes.Remove(id),
            ByNodeKey = ByNodeKey.Remove(entry.NodeKey.Value),
            ByMachineKey = machine.IsEmpty ? ByMachineKey.Remove(entry.MachineKey.Value) : ByMachineKey.SetItem(entry.MachineKey.Value, machine),
            ByAddress = ByAddress.Remove(entry.IPv4).Remove(entry.IPv6),
            ByGivenName = ByGivenName.Remove(entry.GivenName),
        };
    }
}
