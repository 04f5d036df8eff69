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
        NodeDeleted => new NodeState(null, true),
        _ => throw new ArgumentOutOfRangeException(nameof(e), e.GetType().Name, "unknown node event"),
    };

    private NodeState Update(Func<Node, Node> change) =>
        Node is { } node ? this with { Node = change(node) } : this;
}
