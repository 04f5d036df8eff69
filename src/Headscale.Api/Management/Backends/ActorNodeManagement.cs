using Google.Protobuf.WellKnownTypes;
using Headscale.Actors.NetworkMap;
using Headscale.Actors.Nodes;
using Headscale.Actors.Nodes.Messages;
using Headscale.Actors.Users;
using Headscale.Management.V1;
using DomainNode = Headscale.Actors.Nodes.Messages.Node;
using DomainUser = Headscale.Actors.Users.Messages.User;
using DomainRegisterMethod = Headscale.Actors.Nodes.Messages.RegisterMethod;
using Node = Headscale.Management.V1.Node;
using NodeStatus = Headscale.Actors.NetworkMap.NetworkMapCommands.NodeStatus;
using RegisterMethod = Headscale.Management.V1.RegisterMethod;

namespace Headscale.Api.Management.Backends;

/// <summary>
/// Nodes over the node entities and registry, in Headscale 0.27's shapes. Online status and
/// primary routes come from this host's network map.
/// </summary>
public sealed class ActorNodeManagement(
    INodeService nodes, IUserService users, Headscale.Actors.PreAuthKeys.IPreAuthKeyService keys, INetworkMapStatus map, TimeProvider time, ManagementCaller caller)
    : INodeManagement
{
    /// <summary>Which RPC a node is shown for: 0.27 fills <c>valid_tags</c> and <c>subnet_routes</c> differently per call.</summary>
    private enum View
    {
        /// <summary>GetNode and most replies: no valid tags, no subnet routes.</summary>
        Plain,

        /// <summary>ListNodes: valid tags, and primary plus exit routes as subnet routes.</summary>
        Listed,

        /// <summary>SetApprovedRoutes: primary routes only as subnet routes.</summary>
        Approved,
    }

    public async Task<ManagementResult<GetNodeResponse>> GetNodeAsync(GetNodeRequest request, CancellationToken cancellationToken) =>
        await nodes.GetAsync(new NodeId(request.NodeId), cancellationToken) is { } node
            ? new GetNodeResponse { Node = await ToProtoAsync(node, View.Plain, cancellationToken) }
            : ManagementError.NotFound("node not found");

    public async Task<ManagementResult<ListNodesResponse>> ListNodesAsync(ListNodesRequest request, CancellationToken cancellationToken)
    {
        UserId? filter = null;
        if (request.User.Length > 0)
        {
            if (await users.GetByNameAsync(request.User, cancellationToken) is not { } user)
            {
                return ManagementError.NotFound("user not found");
            }

            filter = user.Id;
        }

        var listed = (await nodes.ListAsync(filter, cancellationToken)).OrderBy(n => n.Id.Value).ToList();
        var status = await map.GetAsync([.. listed.Select(n => (long)n.Id.Value)], cancellationToken);
        var owners = (await users.ListAsync(cancellationToken)).ToDictionary(u => u.Id);
        var usedKeys = listed.Any(n => n.AuthKey is not null)
            // All keys, not the filtered user's: a moved node keeps the key of its first owner.
            ? (await keys.ListAsync(null, cancellationToken)).ToDictionary(k => k.Id)
            : [];
        var response = new ListNodesResponse();
        response.Nodes.AddRange(listed.Select(n =>
        {
            var owner = owners.GetValueOrDefault(n.User);
            var proto = ToProto(n, owner, status.GetValueOrDefault((long)n.Id.Value), View.Listed);
            if (n.AuthKey is { } keyId && usedKeys.TryGetValue(keyId, out var key))
            {
                proto.PreAuthKey = ActorPreAuthKeyManagement.ToProto(key, owners.GetValueOrDefault(key.User));
            }

            return proto;
        }));
        return response;
    }

    public async Task<ManagementResult<ExpireNodeResponse>> ExpireNodeAsync(ExpireNodeRequest request, CancellationToken cancellationToken)
    {
        var result = await nodes.ExpireAsync(new NodeId(request.NodeId), request.Expiry?.ToDateTimeOffset(), time.GetUtcNow(), caller.Current, cancellationToken);
        return result.Node is { } node && result.Result.Succeeded
            ? new ExpireNodeResponse { Node = await ToProtoAsync(node, View.Plain, cancellationToken) }
            : ResultMapping.ToError(result.Result);
    }

    public async Task<ManagementResult<DeleteNodeResponse>> DeleteNodeAsync(DeleteNodeRequest request, CancellationToken cancellationToken)
    {
        var result = await nodes.DeleteAsync(new NodeId(request.NodeId), time.GetUtcNow(), caller.Current, cancellationToken);
        return result.Result.Succeeded ? new DeleteNodeResponse() : ResultMapping.ToError(result.Result);
    }

    public async Task<ManagementResult<RenameNodeResponse>> RenameNodeAsync(RenameNodeRequest request, CancellationToken cancellationToken)
    {
        var result = await nodes.RenameAsync(new NodeId(request.NodeId), request.NewName, time.GetUtcNow(), caller.Current, cancellationToken);
        return result.Node is { } node && result.Result.Succeeded
            ? new RenameNodeResponse { Node = await ToProtoAsync(node, View.Plain, cancellationToken) }
            : ResultMapping.ToError(result.Result);
    }

    public async Task<ManagementResult<RegisterNodeResponse>> RegisterNodeAsync(RegisterNodeRequest request, CancellationToken cancellationToken)
    {
        var result = await nodes.RegisterPendingAsync(request.Key, request.User, time.GetUtcNow(), caller.Current, cancellationToken);
        return result.Node is { } node && result.Result.Succeeded
            ? new RegisterNodeResponse { Node = await ToProtoAsync(node, View.Plain, cancellationToken) }
            : ResultMapping.ToError(result.Result);
    }

    public async Task<ManagementResult<SetTagsResponse>> SetTagsAsync(SetTagsRequest request, CancellationToken cancellationToken)
    {
        var result = await nodes.SetTagsAsync(new NodeId(request.NodeId), [.. request.Tags], time.GetUtcNow(), caller.Current, cancellationToken);
        return result.Node is { } node && result.Result.Succeeded
            ? new SetTagsResponse { Node = await ToProtoAsync(node, View.Plain, cancellationToken) }
            : ResultMapping.ToError(result.Result);
    }

    public async Task<ManagementResult<SetApprovedRoutesResponse>> SetApprovedRoutesAsync(SetApprovedRoutesRequest request, CancellationToken cancellationToken)
    {
        var result = await nodes.SetApprovedRoutesAsync(new NodeId(request.NodeId), [.. request.Routes], time.GetUtcNow(), caller.Current, cancellationToken);
        return result.Node is { } node && result.Result.Succeeded
            ? new SetApprovedRoutesResponse { Node = await ToProtoAsync(node, View.Approved, cancellationToken) }
            : ResultMapping.ToError(result.Result);
    }

    public async Task<ManagementResult<MoveNodeResponse>> MoveNodeAsync(MoveNodeRequest request, CancellationToken cancellationToken)
    {
        var result = await nodes.MoveAsync(new NodeId(request.NodeId), new UserId(request.User), time.GetUtcNow(), caller.Current, cancellationToken);
        return result.Node is { } node && result.Result.Succeeded
            ? new MoveNodeResponse { Node = await ToProtoAsync(node, View.Plain, cancellationToken) }
            : ResultMapping.ToError(result.Result);
    }

    public async Task<ManagementResult<BackfillNodeIPsResponse>> BackfillNodeIPsAsync(BackfillNodeIPsRequest request, CancellationToken cancellationToken)
    {
        // The request validation refuses an unconfirmed call too; this keeps the backend safe on its own.
        if (!request.Confirmed)
        {
            return ManagementError.InvalidArgument("confirmed must be true to backfill node IPs");
        }

        var result = await nodes.BackfillAddressesAsync(time.GetUtcNow(), caller.Current, cancellationToken);
        if (!result.Result.Succeeded)
        {
            return ResultMapping.ToError(result.Result);
        }

        var response = new BackfillNodeIPsResponse();
        response.Changes.AddRange(result.Changes);
        return response;
    }

    public async Task<ManagementResult<DebugCreateNodeResponse>> DebugCreateNodeAsync(DebugCreateNodeRequest request, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var result = await nodes.CreateDebugRegistrationAsync(request.User, request.Key, request.Name, [.. request.Routes], now, cancellationToken);
        if (result.Registration is not { } pending || result.User is not { } user || !result.Result.Succeeded)
        {
            return ResultMapping.ToError(result.Result);
        }

        // Not a node yet: Headscale answers with the made-up node waiting in the registration cache.
        var proto = new Node
        {
            MachineKey = pending.MachineKey.Value,
            NodeKey = pending.NodeKey.Value,
            Name = pending.Hostname,
            GivenName = pending.Hostname,
            User = ActorUserManagement.ToProto(user),
            CreatedAt = Timestamp.FromDateTimeOffset(now),
            LastSeen = Timestamp.FromDateTimeOffset(now),
            RegisterMethod = RegisterMethod.Cli,
        };
        proto.AvailableRoutes.AddRange(pending.AnnouncedRoutes);
        return new DebugCreateNodeResponse { Node = proto };
    }

    private async Task<Node> ToProtoAsync(DomainNode node, View view, CancellationToken cancellationToken)
    {
        var user = await users.GetAsync(node.User, cancellationToken);
        var status = (await map.GetAsync([(long)node.Id.Value], cancellationToken)).GetValueOrDefault((long)node.Id.Value);
        var proto = ToProto(node, user, status, view);
        // The key is almost always the owner's; only a moved node needs the whole list.
        if (node.AuthKey is { } keyId
            && ((await keys.ListAsync(node.User, cancellationToken)).FirstOrDefault(k => k.Id == keyId)
                ?? (await keys.ListAsync(null, cancellationToken)).FirstOrDefault(k => k.Id == keyId)) is { } key)
        {
            proto.PreAuthKey = ActorPreAuthKeyManagement.ToProto(key, key.User == node.User ? user : await users.GetAsync(key.User, cancellationToken));
        }

        return proto;
    }

    private static Node ToProto(DomainNode node, DomainUser? user, NodeStatus? status, View view)
    {
        var proto = new Node
        {
            Id = node.Id.Value,
            MachineKey = node.MachineKey.Value,
            NodeKey = node.NodeKey.Value,
            DiscoKey = node.DiscoKey,
            Name = node.Hostname,
            GivenName = node.GivenName,
            User = user is null ? null : ActorUserManagement.ToProto(user),
            CreatedAt = Timestamp.FromDateTimeOffset(node.CreatedAt),
            LastSeen = node.LastSeen is { } seen ? Timestamp.FromDateTimeOffset(seen) : null,
            Expiry = node.Expiry is { } expiry ? Timestamp.FromDateTimeOffset(expiry) : null,
            Online = status?.Online ?? false,
            RegisterMethod = node.Method switch
            {
                DomainRegisterMethod.AuthKey => RegisterMethod.AuthKey,
                DomainRegisterMethod.Cli => RegisterMethod.Cli,
                _ => RegisterMethod.Unspecified,
            },
        };
        proto.IpAddresses.AddRange(new[] { node.IPv4, node.IPv6 }.Where(a => a.Length > 0));
        var tags = node.Tags.IsDefault ? [] : node.Tags;
        proto.ForcedTags.AddRange(tags);
        proto.Tags.AddRange(tags);
        proto.ApprovedRoutes.AddRange(node.ApprovedRoutes);
        proto.AvailableRoutes.AddRange(node.AnnouncedRoutes);
        switch (view)
        {
            case View.Listed:
                proto.ValidTags.AddRange(tags);
                proto.SubnetRoutes.AddRange((status?.PrimaryRoutes ?? []).Concat(status?.ExitRoutes ?? []));
                break;
            case View.Approved:
                proto.SubnetRoutes.AddRange(status?.PrimaryRoutes ?? []);
                break;
        }

        return proto;
    }
}
