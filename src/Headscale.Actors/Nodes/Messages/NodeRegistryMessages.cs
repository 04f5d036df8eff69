using System.Collections.Immutable;
using Headscale.Actors.Serialization;
using Headscale.Actors.Users;

namespace Headscale.Actors.Nodes.Messages;

/// <summary>
/// What the node registry knows of a node: everything that must be unique cluster-wide (node key,
/// addresses, given name) plus the owner and machine key it is looked up by.
/// </summary>
public sealed record NodeIndexEntry(
    NodeId Id,
    MachineKey MachineKey,
    NodeKey NodeKey,
    UserId User,
    string GivenName,
    string IPv4,
    string IPv6,
    bool Ephemeral) : IHeadscaleSerializable;

/// <summary>Marker for commands to the node registry; each is answered with <see cref="NodeRegistryCommands.NodeRegistryResult"/>.</summary>
public interface INodeRegistryCommand : IHeadscaleSerializable
{
    NodeId Id { get; }
}

/// <summary>Marker for events the node registry persists.</summary>
public interface INodeRegistryEvent : IHeadscaleSerializable
{
    NodeId Id { get; }

    DateTimeOffset At { get; }

    Cause Cause { get; }
}

/// <summary>Commands to the node registry singleton (sent by the registration and node services).</summary>
public static class NodeRegistryCommands
{
    /// <summary>
    /// Reserves everything unique for a new node: binds the node key, allocates addresses and a
    /// given name derived from <paramref name="Hostname"/>. Conflict when the node key is bound to
    /// another node or the prefixes are full.
    /// </summary>
    public sealed record ReserveNode(
        NodeId Id, MachineKey MachineKey, NodeKey NodeKey, UserId User, string Hostname, bool Ephemeral, DateTimeOffset Now, Cause Cause)
        : INodeRegistryCommand;

    /// <summary>Binds a new node key (rotation or re-authentication) and the ephemeral flag. Conflict if the key is another node's.</summary>
    public sealed record RebindNode(NodeId Id, NodeKey NodeKey, bool Ephemeral, DateTimeOffset Now, Cause Cause) : INodeRegistryCommand;

    /// <summary>Sets the node's given name. BadRequest if not a valid DNS label, Conflict if another node has it.</summary>
    public sealed record ChangeGivenName(NodeId Id, string GivenName, DateTimeOffset Now, Cause Cause) : INodeRegistryCommand;

    /// <summary>Frees the node's key, addresses and name (node deleted, or a registration compensated). NoOp if unknown.</summary>
    public sealed record ReleaseNode(NodeId Id, DateTimeOffset Now, Cause Cause) : INodeRegistryCommand;

    /// <summary>Moves the node to another user (MoveNode); the sender checked the user exists. NotFound for an unknown node.</summary>
    public sealed record ChangeOwner(NodeId Id, UserId User, DateTimeOffset Now, Cause Cause) : INodeRegistryCommand;

    /// <summary>
    /// Allocates the addresses the node lacks for the configured prefixes (a prefix added after it
    /// registered). NoOp when it has all; Conflict when a prefix is full.
    /// </summary>
    public sealed record BackfillAddresses(NodeId Id, DateTimeOffset Now, Cause Cause) : INodeRegistryCommand;

    public sealed record NodeRegistryResult(CommandResult Result, NodeIndexEntry? Entry) : IHeadscaleSerializable;
}

/// <summary>Events persisted by the node registry.</summary>
public static class NodeRegistryEvents
{
    public sealed record NodeReserved(
        NodeId Id, MachineKey MachineKey, NodeKey NodeKey, UserId User, string GivenName, string IPv4, string IPv6, bool Ephemeral, DateTimeOffset At, Cause Cause)
        : INodeRegistryEvent;

    public sealed record NodeRebound(NodeId Id, NodeKey NodeKey, bool Ephemeral, DateTimeOffset At, Cause Cause) : INodeRegistryEvent;

    public sealed record GivenNameChanged(NodeId Id, string GivenName, DateTimeOffset At, Cause Cause) : INodeRegistryEvent;

    public sealed record NodeReleased(NodeId Id, DateTimeOffset At, Cause Cause) : INodeRegistryEvent;

    public sealed record OwnerChanged(NodeId Id, UserId User, DateTimeOffset At, Cause Cause) : INodeRegistryEvent;

    /// <summary>Addresses given to a node that lacked them; an empty one was not assigned.</summary>
    public sealed record AddressesBackfilled(NodeId Id, string IPv4, string IPv6, DateTimeOffset At, Cause Cause) : INodeRegistryEvent;
}

/// <summary>Queries to the node registry; each is answered with <see cref="NodeIndexList"/>.</summary>
public static class NodeRegistryQueries
{
    public sealed record FindByMachineKey(MachineKey MachineKey) : IHeadscaleSerializable;

    public sealed record FindByNodeKey(NodeKey NodeKey) : IHeadscaleSerializable;

    /// <summary>One node by id (0 or 1 entries), or all (of one user when set) when <paramref name="Id"/> is null.</summary>
    public sealed record ListIndex(NodeId? Id, UserId? User) : IHeadscaleSerializable;

    public sealed record NodeIndexList(ImmutableArray<NodeIndexEntry> Entries) : IHeadscaleSerializable;
}

/// <summary>The registry's snapshot: the entries and the sequential allocation cursors; indexes are rebuilt.</summary>
public sealed record NodeRegistrySnapshot(ImmutableArray<NodeIndexEntry> Entries, string LastIPv4, string LastIPv6) : IHeadscaleSerializable;
