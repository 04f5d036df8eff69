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
    // Added after the first release: journals written before lack them, and the JSON reader then
    // passes null/default, so each setter falls back to empty.

    /// <summary>The client's last reported <c>Hostinfo</c> as raw JSON, echoed to peers; empty until the first map request.</summary>
    public string Hostinfo { get; init => field = value ?? ""; } = "";

    /// <summary>The client's disco key (<c>discokey:</c> + hex); empty until reported.</summary>
    public string DiscoKey { get; init => field = value ?? ""; } = "";

    /// <summary>Routes the client announces (<c>Hostinfo.RoutableIPs</c>), canonical prefixes.</summary>
    public ImmutableArray<string> AnnouncedRoutes { get; init => field = value.IsDefault ? [] : value; } = [];

    /// <summary>Routes an admin approved (<c>SetApprovedRoutes</c>), canonical prefixes; served = announced ∩ approved.</summary>
    public ImmutableArray<string> ApprovedRoutes { get; init => field = value.IsDefault ? [] : value; } = [];

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

    /// <summary>
    /// The client reported a Hostinfo (map request). <paramref name="Hostinfo"/> is its raw JSON,
    /// <paramref name="Hostname"/> and <paramref name="RoutableIPs"/> are read from it. NoOp when the
    /// JSON is unchanged; BadRequest when a routable IP is not a prefix.
    /// </summary>
    public sealed record UpdateHostinfo(NodeId Id, string Hostinfo, string Hostname, ImmutableArray<string> RoutableIPs, DateTimeOffset Now, Cause Cause) : INodeCommand;

    /// <summary>The client reported its disco key (it changes when tailscaled restarts). BadRequest unless <c>discokey:</c> + 64 hex.</summary>
    public sealed record UpdateDiscoKey(NodeId Id, string DiscoKey, DateTimeOffset Now, Cause Cause) : INodeCommand;

    /// <summary>
    /// Replaces the approved routes (CLI/API). Either exit route approves both. BadRequest when a
    /// route is not a prefix; NoOp when the set is unchanged.
    /// </summary>
    public sealed record SetApprovedRoutes(NodeId Id, ImmutableArray<string> Routes, DateTimeOffset Now, Cause Cause) : INodeCommand;

    /// <summary>Replaces the admin (forced) tags. BadRequest unless every tag is <c>tag:</c> + a lower-case name without spaces.</summary>
    public sealed record SetTags(NodeId Id, ImmutableArray<string> Tags, DateTimeOffset Now, Cause Cause) : INodeCommand;

    /// <summary>Gives the node to another user; the sender has checked the user exists and moved the registry entry.</summary>
    public sealed record MoveNode(NodeId Id, UserId User, DateTimeOffset Now, Cause Cause) : INodeCommand;

    /// <summary>Records addresses the registry assigned to a node that lacked them (BackfillNodeIPs); present ones never change.</summary>
    public sealed record AssignAddresses(NodeId Id, string IPv4, string IPv6, DateTimeOffset Now, Cause Cause) : INodeCommand;

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

    public sealed record HostinfoChanged(NodeId Id, string Hostinfo, string Hostname, ImmutableArray<string> AnnouncedRoutes, DateTimeOffset At, Cause Cause) : INodeEvent;

    public sealed record DiscoKeyChanged(NodeId Id, string DiscoKey, DateTimeOffset At, Cause Cause) : INodeEvent;

    public sealed record ApprovedRoutesChanged(NodeId Id, ImmutableArray<string> Routes, DateTimeOffset At, Cause Cause) : INodeEvent;

    public sealed record TagsChanged(NodeId Id, ImmutableArray<string> OldTags, ImmutableArray<string> NewTags, DateTimeOffset At, Cause Cause) : INodeEvent;

    public sealed record NodeMoved(NodeId Id, UserId OldUser, UserId NewUser, DateTimeOffset At, Cause Cause) : INodeEvent;

    public sealed record AddressesAssigned(NodeId Id, string IPv4, string IPv6, DateTimeOffset At, Cause Cause) : INodeEvent;
}

/// <summary>What node entities tell the rest of the cluster after they persisted a change.</summary>
public static class NodeNotifications
{
    /// <summary>DistributedPubSub topic every host's network map feed subscribes to (decision 0007).</summary>
    public const string Topic = "node-changes";

    /// <summary>
    /// The node as it is after the event with sequence number <paramref name="Version"/>; null once
    /// deleted (or never registered). Published by <see cref="NodeActor"/> after each persisted event,
    /// and the reply to <see cref="NodeQueries.GetNodeVersion"/>. Receivers keep the highest version per node.
    /// </summary>
    public sealed record NodeChanged(NodeId Id, long Version, Node? Node) : IWithNodeId, IHeadscaleSerializable;
}

/// <summary>Queries to node entities.</summary>
public static class NodeQueries
{
    /// <summary>Replied to with <see cref="NodeCommands.NodeCommandResult"/> (NotFound if no such node).</summary>
    public sealed record GetNode(NodeId Id) : IWithNodeId, IHeadscaleSerializable;

    /// <summary>Replied to with <see cref="NodeNotifications.NodeChanged"/>: the node and its journal position (for feeds).</summary>
    public sealed record GetNodeVersion(NodeId Id) : IWithNodeId, IHeadscaleSerializable;
}
