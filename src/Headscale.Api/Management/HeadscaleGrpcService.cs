using Grpc.Core;
using Headscale.Management.V1;

namespace Headscale.Api.Management;

/// <summary>
/// headscale.v1.HeadscaleService over gRPC and, by JSON transcoding, REST. No logic: each method
/// hands the request to its area's facade and unwraps the result, so errors become statuses in
/// one place (<see cref="ManagementStatusMapping"/>). Authentication happens before this class
/// (<see cref="ManagementAuthenticationMiddleware"/>).
/// </summary>
public sealed class HeadscaleGrpcService(
    IUserManagement users,
    INodeManagement nodes,
    IPreAuthKeyManagement preAuthKeys,
    IApiKeyManagement apiKeys,
    IPolicyManagement policy,
    IHealthManagement health,
    IAuditManagement audit) : HeadscaleService.HeadscaleServiceBase
{
    public override async Task<CreateUserResponse> CreateUser(CreateUserRequest request, ServerCallContext context) =>
        (await users.CreateUserAsync(request, context.CancellationToken)).ValueOrThrow();

    public override async Task<RenameUserResponse> RenameUser(RenameUserRequest request, ServerCallContext context) =>
        (await users.RenameUserAsync(request, context.CancellationToken)).ValueOrThrow();

    public override async Task<DeleteUserResponse> DeleteUser(DeleteUserRequest request, ServerCallContext context) =>
        (await users.DeleteUserAsync(request, context.CancellationToken)).ValueOrThrow();

    public override async Task<ListUsersResponse> ListUsers(ListUsersRequest request, ServerCallContext context) =>
        (await users.ListUsersAsync(request, context.CancellationToken)).ValueOrThrow();

    public override async Task<CreatePreAuthKeyResponse> CreatePreAuthKey(CreatePreAuthKeyRequest request, ServerCallContext context) =>
        (await preAuthKeys.CreatePreAuthKeyAsync(request, context.CancellationToken)).ValueOrThrow();

    public override async Task<ExpirePreAuthKeyResponse> ExpirePreAuthKey(ExpirePreAuthKeyRequest request, ServerCallContext context) =>
        (await preAuthKeys.ExpirePreAuthKeyAsync(request, context.CancellationToken)).ValueOrThrow();

    public override async Task<ListPreAuthKeysResponse> ListPreAuthKeys(ListPreAuthKeysRequest request, ServerCallContext context) =>
        (await preAuthKeys.ListPreAuthKeysAsync(request, context.CancellationToken)).ValueOrThrow();

    public override async Task<DebugCreateNodeResponse> DebugCreateNode(DebugCreateNodeRequest request, ServerCallContext context) =>
        (await nodes.DebugCreateNodeAsync(request, context.CancellationToken)).ValueOrThrow();

    public override async Task<GetNodeResponse> GetNode(GetNodeRequest request, ServerCallContext context) =>
        (await nodes.GetNodeAsync(request, context.CancellationToken)).ValueOrThrow();

    public override async Task<SetTagsResponse> SetTags(SetTagsRequest request, ServerCallContext context) =>
        (await nodes.SetTagsAsync(request, context.CancellationToken)).ValueOrThrow();

    public override async Task<SetApprovedRoutesResponse> SetApprovedRoutes(SetApprovedRoutesRequest request, ServerCallContext context) =>
        (await nodes.SetApprovedRoutesAsync(request, context.CancellationToken)).ValueOrThrow();

    public override async Task<RegisterNodeResponse> RegisterNode(RegisterNodeRequest request, ServerCallContext context) =>
        (await nodes.RegisterNodeAsync(request, context.CancellationToken)).ValueOrThrow();

    public override async Task<DeleteNodeResponse> DeleteNode(DeleteNodeRequest request, ServerCallContext context) =>
        (await nodes.DeleteNodeAsync(request, context.CancellationToken)).ValueOrThrow();

    public override async Task<ExpireNodeResponse> ExpireNode(ExpireNodeRequest request, ServerCallContext context) =>
        (await nodes.ExpireNodeAsync(request, context.CancellationToken)).ValueOrThrow();

    public override async Task<RenameNodeResponse> RenameNode(RenameNodeRequest request, ServerCallContext context) =>
        (await nodes.RenameNodeAsync(request, context.CancellationToken)).ValueOrThrow();

    public override async Task<ListNodesResponse> ListNodes(ListNodesRequest request, ServerCallContext context) =>
        (await nodes.ListNodesAsync(request, context.CancellationToken)).ValueOrThrow();

    public override async Task<MoveNodeResponse> MoveNode(MoveNodeRequest request, ServerCallContext context) =>
        (await nodes.MoveNodeAsync(request, context.CancellationToken)).ValueOrThrow();

    public override async Task<BackfillNodeIPsResponse> BackfillNodeIPs(BackfillNodeIPsRequest request, ServerCallContext context) =>
        (await nodes.BackfillNodeIPsAsync(request, context.CancellationToken)).ValueOrThrow();

    public override async Task<CreateApiKeyResponse> CreateApiKey(CreateApiKeyRequest request, ServerCallContext context) =>
        (await apiKeys.CreateApiKeyAsync(request, context.CancellationToken)).ValueOrThrow();

    public override async Task<ExpireApiKeyResponse> ExpireApiKey(ExpireApiKeyRequest request, ServerCallContext context) =>
        (await apiKeys.ExpireApiKeyAsync(request, context.CancellationToken)).ValueOrThrow();

    public override async Task<ListApiKeysResponse> ListApiKeys(ListApiKeysRequest request, ServerCallContext context) =>
        (await apiKeys.ListApiKeysAsync(request, context.CancellationToken)).ValueOrThrow();

    public override async Task<DeleteApiKeyResponse> DeleteApiKey(DeleteApiKeyRequest request, ServerCallContext context) =>
        (await apiKeys.DeleteApiKeyAsync(request, context.CancellationToken)).ValueOrThrow();

    public override async Task<GetPolicyResponse> GetPolicy(GetPolicyRequest request, ServerCallContext context) =>
        (await policy.GetPolicyAsync(request, context.CancellationToken)).ValueOrThrow();

    public override async Task<SetPolicyResponse> SetPolicy(SetPolicyRequest request, ServerCallContext context) =>
        (await policy.SetPolicyAsync(request, context.CancellationToken)).ValueOrThrow();

    public override async Task<HealthResponse> Health(HealthRequest request, ServerCallContext context) =>
        (await health.HealthAsync(request, context.CancellationToken)).ValueOrThrow();

    public override async Task<ListAuditEventsResponse> ListAuditEvents(ListAuditEventsRequest request, ServerCallContext context) =>
        (await audit.ListAuditEventsAsync(request, context.CancellationToken)).ValueOrThrow();
}
