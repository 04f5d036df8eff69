using Google.Protobuf.WellKnownTypes;
using Headscale.Actors.Nodes;
using Headscale.Actors.Nodes.Messages;
using Headscale.Actors.Users;
using Headscale.Management.V1;
using DomainNode = Headscale.Actors.Nodes.Messages.Node;
using DomainRegisterMethod = Headscale.Actors.Nodes.Messages.RegisterMethod;
using Node = Headscale.Management.V1.Node;
using RegisterMethod = Headscale.Management.V1.RegisterMethod;

namespace Headscale.Api.Management.Backends;

/// <summary>
/// Nodes over the node entities and registry. Tags, approved routes, moving and IP backfill
/// need node state the domain does not hold yet (tags set by an admin, announced and approved
/// routes) and answer Unimplemented rather than pretend.
/// </summary>
public sealed class ActorNodeManagement(INodeService nodes, IUserService users, TimeProvider time, ManagementCaller caller) : INodeManagement
{
    public async Task<ManagementResult<GetNodeResponse>> GetNodeAsync(GetNodeRequest request, CancellationToken cancellationToken) =>
        await nodes.GetAsync(new NodeId(request.NodeId), cancellationToken) is { } node
            ? new GetNodeResponse { Node = await ToProtoAsync(node, cancellationToken) }
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

        var response = new ListNodesResponse();
        foreach (var node in (await nodes.ListAsync(filter, cancellationToken)).OrderBy(n => n.Id.Value))
        {
            response.Nodes.Add(await ToProtoAsync(node, cancellationToken));
        }

        return response;
    }

    public async Task<ManagementResult<ExpireNodeResponse>> ExpireNodeAsync(ExpireNodeRequest request, CancellationToken cancellationToken)
    {
        var result = await nodes.ExpireAsync(new NodeId(request.NodeId), request.Expiry?.ToDateTimeOffset(), time.GetUtcNow(), caller.Current, cancellationToken);
        return result.Node is { } node && result.Result.Succeeded
            ? new ExpireNodeResponse { Node = await ToProtoAsync(node, cancellationToken) }
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
            ? new RenameNodeResponse { Node = await ToProtoAsync(node, cancellationToken) }
            : ResultMapping.ToError(result.Result);
    }

    public async Task<ManagementResult<RegisterNodeResponse>> RegisterNodeAsync(RegisterNodeRequest request, CancellationToken cancellationToken)
    {
        var result = await nodes.RegisterPendingAsync(request.Key, request.User, time.GetUtcNow(), caller.Current, cancellationToken);
        return result.Node is { } node && result.Result.Succeeded
            ? new RegisterNodeResponse { Node = await ToProtoAsync(node, cancellationToken) }
            : ResultMapping.ToError(result.Result);
    }

    public Task<ManagementResult<SetTagsResponse>> SetTagsAsync(SetTagsRequest request, CancellationToken cancellationToken) =>
        Task.FromResult<ManagementResult<SetTagsResponse>>(ManagementError.Unimplemented("SetTags"));

    public Task<ManagementResult<SetApprovedRoutesResponse>> SetApprovedRoutesAsync(SetApprovedRoutesRequest request, CancellationToken cancellationToken) =>
        Task.FromResult<ManagementResult<SetApprovedRoutesResponse>>(ManagementError.Unimplemented("SetApprovedRoutes"));

    public Task<ManagementResult<MoveNodeResponse>> MoveNodeAsync(MoveNodeRequest request, CancellationToken cancellationToken) =>
        Task.FromResult<ManagementResult<MoveNodeResponse>>(ManagementError.Unimplemented("MoveNode"));

    public Task<ManagementResult<BackfillNodeIPsResponse>> BackfillNodeIPsAsync(BackfillNodeIPsRequest request, CancellationToken cancellationToken) =>
        Task.FromResult<ManagementResult<BackfillNodeIPsResponse>>(ManagementError.Unimplemented("BackfillNodeIPs"));

    public Task<ManagementResult<DebugCreateNodeResponse>> DebugCreateNodeAsync(DebugCreateNodeRequest request, CancellationToken cancellationToken) =>
        Task.FromResult<ManagementResult<DebugCreateNodeResponse>>(ManagementError.Unimplemented("DebugCreateNode"));

    private async Task<Node> ToProtoAsync(DomainNode node, CancellationToken cancellationToken)
    {
        var user = await users.GetAsync(node.User, cancellationToken);
        var proto = new Node
        {
            Id = node.Id.Value,
            MachineKey = node.MachineKey.Value,
            NodeKey = node.NodeKey.Value,
            Name = node.Hostname,
            GivenName = node.GivenName,
            User = user is null ? null : ActorUserManagement.ToProto(user),
            CreatedAt = Timestamp.FromDateTimeOffset(node.CreatedAt),
            LastSeen = node.LastSeen is { } seen ? Timestamp.FromDateTimeOffset(seen) : null,
            Expiry = node.Expiry is { } expiry ? Timestamp.FromDateTimeOffset(expiry) : null,
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
        proto.ValidTags.AddRange(tags);
        proto.Tags.AddRange(tags);
        return proto;
    }
}
