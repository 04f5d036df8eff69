using System.Collections.Immutable;
using Headscale.Actors.PreAuthKeys;
using Headscale.Actors.Serialization;
using Headscale.Actors.Users;

namespace Headscale.Actors.Nodes.Messages;

/// <summary>How a node was (last) registered.</summary>
public enum RegisterMethod
{
    AuthKey = 1,
    Cli = 2,
    Api = 3,
}

/// <summary>A node as its entity stores it; replies carry it as the view.</summary>
public sealed record Node(
    NodeId Id,
    MachineKey MachineKey,
    NodeKey NodeKey,
    UserId User,
    string Hostname,
    string GivenName,
    string IPv4,
    string IPv6,
    DateTimeOffset? Expiry,
    bool Ephemeral,
    ImmutableArray<string> Tags,
    PreAuthKeyId? AuthKey,
    RegisterMethod Method,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    DateTimeOffset? LastSeen) : IHeadscaleSerializable
{
    /// <summary>Expired when an expiry is set and has passed; no expiry means never.</summary>
    public bool IsExpiredAt(DateTimeOffset now) => Expiry is { } expiry && expiry <= now;
}

/// <summary>Anything addressed to one node entity; the shard extractor routes on <see cref="Id"/>.</summary>
public interface IWithNodeId
{
    NodeId Id { get; }
}

/// <summary>Marker for commands to a node entity; each is answered with <see cref="NodeCommands.NodeCommandResult"/>.</summary>
public interface INodeCommand : IWithNodeId, IHeadscaleSerializable;

/// <summary>Marker for events a node entity persists; together they are the node's audit log.</summary>
public interface INodeEvent : IWithNodeId, IHeadscaleSerializable
{
    DateTimeOffset At { get; }

    Cause Cause { get; }
}

/// <summary>Commands to node entities (<c>node-{id}</c>), sent by the registration and node services.</summary>
public static class NodeCommands
{
    /// <summary>Creates the node with what the registry reserved. NoOp when repeated, Conflict once deleted.</summary>
    public sealed record RegisterNode(
        NodeId Id,
        MachineKey MachineKey,
        NodeKey NodeKey,
        UserId User,
        string Hostname,
        string GivenName,
        string IPv4,
        string IPv6,
        DateTimeOffset? Expiry,
        bool Ephemeral,
        ImmutableArray<string> Tags,
        PreAuthKeyId? AuthKey,
        RegisterMethod Method,
        DateTimeOffset Now,
        Cause Cause) : INodeCommand;

    /// <summary>The same machine logged in again as the same owner: new key, host name, expiry, tags, in place.</summary>
    public sealed record ReauthenticateNode(
        NodeId Id,
        NodeKey NodeKey,
        string Hostname,
        DateTimeOffset? Expiry,
        bool Ephemeral,
        ImmutableArray<string> Tags,
        PreAuthKeyId? AuthKey,
        RegisterMethod Method,
        DateTimeOffset Now,
        Cause Cause) : INodeCommand;

    /// <summary>The client rotated its node key (OldNodeKey → NodeKey); nothing else changes.</summary>
    public sealed record RotateNodeKey(NodeId Id, NodeKey OldNodeKey, NodeKey NewNodeKey, DateTimeOffset Now, Cause Cause) : INodeCommand;

    /// <summary>Sets the key expiry to <paramref name="ExpiresAt"/> (logout, CLI/API expire, or a client asking for an earlier expiry).</summary>
    public sealed record ExpireNode(NodeId Id, DateTimeOffset ExpiresAt, DateTimeOffset Now, Cause Cause) : INodeCommand;

    /// <summary>Records the new given name the registry granted.</summary>
    public sealed record RenameNode(NodeId Id, string GivenName, DateTimeOffset Now, Cause Cause) : INodeCommand;

    /// <summary>Deletes the node. The entity then tells the registry to release it.</summary>
    public sealed record DeleteNode(NodeId Id, DateTimeOffset Now, Cause Cause) : INodeCommand;

    /// <summary>Sent by the map session layer when the node's stream opens; cancels ephemeral cleanup. No reply.</summary>
    public sealed record NodeConnected(NodeId Id, DateTimeOffset Now) : IWithNodeId, IHeadscaleSerializable;

    /// <summary>
    /// Sent by the map session layer when the node's last stream ends; records last-seen and, for an
    /// ephemeral node, arms deletion after <c>ephemeral_node_inactivity_timeout</c>. No reply.
    /// </summary>
    public sealed record NodeDisconnected(NodeId Id, DateTimeOffset Now) : IWithNodeId, IHeadscaleSerializable;

    /// <summary>The reply to node commands: the result and the node afterwards (null if it never existed or was deleted).</summary>
    public sealed record NodeCommandResult(CommandResult Result, Node? Node) : IHeadscaleSerializable;
}

/// <summary>Events persisted by node entities.</summary>
public static class NodeEvents
{
    public sealed record NodeRegistered(Node Node, DateTimeOffset At, Cause Cause) : INodeEvent
    {
        public NodeId Id => Node.Id;
    }

    public sealed record NodeReauthenticated(
        NodeId Id,
        NodeKey NodeKey,
        string Hostname,
        DateTimeOffset? Expiry,
        bool Ephemeral,
        ImmutableArray<string> Tags,
        PreAuthKeyId? AuthKey,
        RegisterMethod Method,
        DateTimeOffset At,
        Cause Cause) : INodeEvent;

    public sealed record NodeKeyRotated(NodeId Id, NodeKey OldNodeKey, NodeKey NewNodeKey, DateTimeOffset At, Cause Cause) : INodeEvent;

    public sealed record NodeExpired(NodeId Id, DateTimeOffset ExpiresAt, DateTimeOffset At, Cause Cause) : INodeEvent;

    public sealed record NodeRenamed(NodeId Id, string OldGivenName, string NewGivenName, DateTimeOffset At, Cause Cause) : INodeEvent;

    public sealed record NodeDeleted(NodeId Id, DateTimeOffset At, Cause Cause) : INodeEvent;

    public sealed record NodeLastSeen(NodeId Id, DateTimeOffset At, Cause Cause) : INodeEvent;
}

/// <summary>Queries to node entities.</summary>
public static class NodeQueries
{
    /// <summary>Replied to with <see cref="NodeCommands.NodeCommandResult"/> (NotFound if no such node).</summary>
    public sealed record GetNode(NodeId Id) : IWithNodeId, IHeadscaleSerializable;
}
