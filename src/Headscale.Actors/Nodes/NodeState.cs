using Headscale.Actors.Nodes.Messages;
using static Headscale.Actors.Nodes.Messages.NodeCommands;
using static Headscale.Actors.Nodes.Messages.NodeEvents;

namespace Headscale.Actors.Nodes;

/// <summary>A node entity's state: not yet registered, registered, or deleted (ids are never reused).</summary>
public sealed record NodeState(Node? Node, bool Deleted)
{
    public static readonly NodeState Unregistered = new(null, false);

    public static Decision<INodeEvent> Decide(NodeState state, INodeCommand command)
    {
        if (state.Deleted)
        {
            return command is DeleteNode
                ? Decision<INodeEvent>.NoOp()
                : Decision<INodeEvent>.Reject(ResultCode.NotFound, Errors.NodeNotFound);
        }

        if (command is RegisterNode register)
        {
            return state.Node is { } existing
                ? existing.NodeKey == register.NodeKey && existing.MachineKey == register.MachineKey
                    ? Decision<INodeEvent>.NoOp()
                    : Decision<INodeEvent>.Reject(ResultCode.Conflict, $"node {register.Id} is already registered")
                : Decision<INodeEvent>.Accept(new NodeRegistered(
                    new Node(register.Id, register.MachineKey, register.NodeKey, register.User, register.Hostname, register.GivenName,
                        register.IPv4, register.IPv6, register.Expiry, register.Ephemeral, register.Tags, register.AuthKey,
                        register.Method, register.Now, register.Now, null),
                    register.Now,
                    register.Cause));
        }

        if (state.Node is not { } node)
        {
            return Decision<INodeEvent>.Reject(ResultCode.NotFound, Errors.NodeNotFound);
        }

        return command switch
        {
            ReauthenticateNode c => Decision<INodeEvent>.Accept(new NodeReauthenticated(
                c.Id, c.NodeKey, c.Hostname, c.Expiry, c.Ephemeral, c.Tags, c.AuthKey, c.Method, c.Now, c.Cause)),
            RotateNodeKey c when node.NodeKey == c.NewNodeKey => Decision<INodeEvent>.NoOp(),
            RotateNodeKey c when node.NodeKey != c.OldNodeKey =>
                Decision<INodeEvent>.Reject(ResultCode.Conflict, "the old node key is not the node's current key"),
            RotateNodeKey c => Decision<INodeEvent>.Accept(new NodeKeyRotated(c.Id, c.OldNodeKey, c.NewNodeKey, c.Now, c.Cause)),
            ExpireNode c when node.Expiry == c.ExpiresAt => Decision<INodeEvent>.NoOp(),
            ExpireNode c => Decision<INodeEvent>.Accept(new NodeExpired(c.Id, c.ExpiresAt, c.Now, c.Cause)),
            RenameNode c when node.GivenName == c.GivenName => Decision<INodeEvent>.NoOp(),
            RenameNode c => Decision<INodeEvent>.Accept(new NodeRenamed(c.Id, node.GivenName, c.GivenName, c.Now, c.Cause)),
            DeleteNode c => Decision<INodeEvent>.Accept(new NodeDeleted(c.Id, c.Now, c.Cause)),
            UpdateHostinfo c => DecideHostinfo(node, c),
            UpdateDiscoKey c when !NodeInputs.IsDiscoKey(c.DiscoKey) =>
                Decision<INodeEvent>.Reject(ResultCode.BadRequest, $"DiscoKey: '{c.DiscoKey}' is not discokey: followed by 64 hex digits"),
            UpdateDiscoKey c when string.Equals(node.DiscoKey, c.DiscoKey, StringComparison.OrdinalIgnoreCase) => Decision<INodeEvent>.NoOp(),
            UpdateDiscoKey c => Decision<INodeEvent>.Accept(new DiscoKeyChanged(c.Id, c.DiscoKey.ToLowerInvariant(), c.Now, c.Cause)),
            SetApprovedRoutes c => DecideApprovedRoutes(node, c),
            SetTags c => DecideTags(node, c),
            MoveNode c when node.User == c.User => Decision<INodeEvent>.NoOp(),
            MoveNode c => Decision<INodeEvent>.Accept(new NodeMoved(c.Id, node.User, c.User, c.Now, c.Cause)),
            AssignAddresses c => DecideAddresses(node, c),
            _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "unknown node command"),
        };
    }

    public static NodeState Apply(NodeState state, INodeEvent e) => e switch
    {
        NodeRegistered r => new NodeState(r.Node, false),
        NodeReauthenticated r => state.Update(n => n with
        {
            NodeKey = r.NodeKey,
            Hostname = r.Hostname,
            Expiry = r.Expiry,
            Ephemeral = r.Ephemeral,
            Tags = r.Tags,
            AuthKey = r.AuthKey,
            Method = r.Method,
            UpdatedAt = r.At,
        }),
        NodeKeyRotated k => state.Update(n => n with { NodeKey = k.NewNodeKey, UpdatedAt = k.At }),
        NodeExpired x => state.Update(n => n with { Expiry = x.ExpiresAt, UpdatedAt = x.At }),
        NodeRenamed r => state.Update(n => n with { GivenName = r.NewGivenName, UpdatedAt = r.At }),
        NodeLastSeen s => state.Update(n => n with { LastSeen = s.At }),
        HostinfoChanged h => state.Update(n => n with
        {
            Hostinfo = h.Hostinfo,
            Hostname = h.Hostname.Length > 0 ? h.Hostname : n.Hostname,
            AnnouncedRoutes = h.AnnouncedRoutes,
            UpdatedAt = h.At,
        }),
        DiscoKeyChanged d => state.Update(n => n with { DiscoKey = d.DiscoKey, UpdatedAt = d.At }),
        ApprovedRoutesChanged r => state.Update(n => n with { ApprovedRoutes = r.Routes, UpdatedAt = r.At }),
        TagsChanged t => state.Update(n => n with { Tags = t.NewTags, UpdatedAt = t.At }),
        NodeMoved m => state.Update(n => n with { User = m.NewUser, UpdatedAt = m.At }),
        AddressesAssigned a => state.Update(n => n with
        {
            IPv4 = n.IPv4.Length > 0 ? n.IPv4 : a.IPv4,
            IPv6 = n.IPv6.Length > 0 ? n.IPv6 : a.IPv6,
            UpdatedAt = a.At,
        }),
        NodeDeleted => new NodeState(null, true),
        _ => throw new ArgumentOutOfRangeException(nameof(e), e.GetType().Name, "unknown node event"),
    };

    /// <summary>Longest host name kept from a Hostinfo (a DNS name; longer ones are ignored, as Headscale ignores invalid updates).</summary>
    public const int MaxHostnameLength = 255;

    private static Decision<INodeEvent> DecideHostinfo(Node node, UpdateHostinfo c)
    {
        if (!NodeInputs.TryNormaliseRoutes(c.RoutableIPs, "Hostinfo.RoutableIPs", out var announced, out var error))
        {
            return Decision<INodeEvent>.Reject(ResultCode.BadRequest, error);
        }

        if (c.Hostinfo.Length == 0 || c.Hostinfo == node.Hostinfo)
        {
            return Decision<INodeEvent>.NoOp();
        }

        var hostname = c.Hostname.Trim();
        hostname = hostname.Length is > 0 and <= MaxHostnameLength && !hostname.Any(char.IsControl) ? hostname : "";
        return Decision<INodeEvent>.Accept(new HostinfoChanged(c.Id, c.Hostinfo, hostname, announced, c.Now, c.Cause));
    }

    private static Decision<INodeEvent> DecideApprovedRoutes(Node node, SetApprovedRoutes c)
    {
        if (!NodeInputs.TryNormaliseRoutes(c.Routes, "routes", out var routes, out var error))
        {
            return Decision<INodeEvent>.Reject(ResultCode.BadRequest, error);
        }

        routes = NodeInputs.WithBothExitRoutes(routes);
        return routes.SequenceEqual(node.ApprovedRoutes.IsDefault ? [] : node.ApprovedRoutes)
            ? Decision<INodeEvent>.NoOp()
            : Decision<INodeEvent>.Accept(new ApprovedRoutesChanged(c.Id, routes, c.Now, c.Cause));
    }

    private static Decision<INodeEvent> DecideTags(Node node, SetTags c)
    {
        if (!NodeInputs.TryNormaliseTags(c.Tags, "tags", out var tags, out var error))
        {
            return Decision<INodeEvent>.Reject(ResultCode.BadRequest, error);
        }

        var current = node.Tags.IsDefault ? [] : node.Tags;
        return tags.SequenceEqual(current.Order(StringComparer.Ordinal))
            ? Decision<INodeEvent>.NoOp()
            : Decision<INodeEvent>.Accept(new TagsChanged(c.Id, current, tags, c.Now, c.Cause));
    }

    private static Decision<INodeEvent> DecideAddresses(Node node, AssignAddresses c)
    {
        var v4 = node.IPv4.Length == 0 ? c.IPv4 : "";
        var v6 = node.IPv6.Length == 0 ? c.IPv6 : "";
        if ((v4.Length > 0 && !System.Net.IPAddress.TryParse(v4, out _)) || (v6.Length > 0 && !System.Net.IPAddress.TryParse(v6, out _)))
        {
            return Decision<INodeEvent>.Reject(ResultCode.BadRequest, $"addresses: '{c.IPv4}' / '{c.IPv6}' are not IP addresses");
        }

        return v4.Length == 0 && v6.Length == 0
            ? Decision<INodeEvent>.NoOp()
            : Decision<INodeEvent>.Accept(new AddressesAssigned(c.Id, v4, v6, c.Now, c.Cause));
    }

    private NodeState Update(Func<Node, Node> change) =>
        Node is { } node ? this with { Node = change(node) } : this;
}
