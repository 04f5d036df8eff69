using Headscale.Management.V1;

namespace Headscale.Api.Management;

/// <summary>
/// Registered until the actor-backed facades exist: every method answers gRPC Unimplemented
/// (REST 501). It never invents data. Replaced by registering a real implementation of the
/// interface (a later registration wins over this one).
/// </summary>
public sealed class UnimplementedManagement : IUserManagement, INodeManagement, IPreAuthKeyManagement, IPolicyManagement, IHealthManagement, IAuditManagement
{
    private static Task<ManagementResult<T>> NotYet<T>(string method) =>
        Task.FromResult(ManagementResult<T>.Failure(ManagementError.Unimplemented(method)));

    public Task<ManagementResult<CreateUserResponse>> CreateUserAsync(CreateUserRequest request, CancellationToken cancellationToken) => NotYet<CreateUserResponse>("CreateUser");
    public Task<ManagementResult<RenameUserResponse>> RenameUserAsync(RenameUserRequest request, CancellationToken cancellationToken) => NotYet<RenameUserResponse>("RenameUser");
    public Task<ManagementResult<DeleteUserResponse>> DeleteUserAsync(DeleteUserRequest request, CancellationToken cancellationToken) => NotYet<DeleteUserResponse>("DeleteUser");
    public Task<ManagementResult<ListUsersResponse>> ListUsersAsync(ListUsersRequest request, CancellationToken cancellationToken) => NotYet<ListUsersResponse>("ListUsers");

    public Task<ManagementResult<DebugCreateNodeResponse>> DebugCreateNodeAsync(DebugCreateNodeRequest request, CancellationToken cancellationToken) => NotYet<DebugCreateNodeResponse>("DebugCreateNode");
    public Task<ManagementResult<GetNodeResponse>> GetNodeAsync(GetNodeRequest request, CancellationToken cancellationToken) => NotYet<GetNodeResponse>("GetNode");
    public Task<ManagementResult<SetTagsResponse>> SetTagsAsync(SetTagsRequest request, CancellationToken cancellationToken) => NotYet<SetTagsResponse>("SetTags");
    public Task<ManagementResult<SetApprovedRoutesResponse>> SetApprovedRoutesAsync(SetApprovedRoutesRequest request, CancellationToken cancellationToken) => NotYet<SetApprovedRoutesResponse>("SetApprovedRoutes");
    public Task<ManagementResult<RegisterNodeResponse>> RegisterNodeAsync(RegisterNodeRequest request, CancellationToken cancellationToken) => NotYet<RegisterNodeResponse>("RegisterNode");
    public Task<ManagementResult<DeleteNodeResponse>> DeleteNodeAsync(DeleteNodeRequest request, CancellationToken cancellationToken) => NotYet<DeleteNodeResponse>("DeleteNode");
    public Task<ManagementResult<ExpireNodeResponse>> ExpireNodeAsync(ExpireNodeRequest request, CancellationToken cancellationToken) => NotYet<ExpireNodeResponse>("ExpireNode");
    public Task<ManagementResult<RenameNodeResponse>> RenameNodeAsync(RenameNodeRequest request, CancellationToken cancellationToken) => NotYet<RenameNodeResponse>("RenameNode");
    public Task<ManagementResult<ListNodesResponse>> ListNodesAsync(ListNodesRequest request, CancellationToken cancellationToken) => NotYet<ListNodesResponse>("ListNodes");
    public Task<ManagementResult<MoveNodeResponse>> MoveNodeAsync(MoveNodeRequest request, CancellationToken cancellationToken) => NotYet<MoveNodeResponse>("MoveNode");
    public Task<ManagementResult<BackfillNodeIPsResponse>> BackfillNodeIPsAsync(BackfillNodeIPsRequest request, CancellationToken cancellationToken) => NotYet<BackfillNodeIPsResponse>("BackfillNodeIPs");

    public Task<ManagementResult<CreatePreAuthKeyResponse>> CreatePreAuthKeyAsync(CreatePreAuthKeyRequest request, CancellationToken cancellationToken) => NotYet<CreatePreAuthKeyResponse>("CreatePreAuthKey");
    public Task<ManagementResult<ExpirePreAuthKeyResponse>> ExpirePreAuthKeyAsync(ExpirePreAuthKeyRequest request, CancellationToken cancellationToken) => NotYet<ExpirePreAuthKeyResponse>("ExpirePreAuthKey");
    public Task<ManagementResult<ListPreAuthKeysResponse>> ListPreAuthKeysAsync(ListPreAuthKeysRequest request, CancellationToken cancellationToken) => NotYet<ListPreAuthKeysResponse>("ListPreAuthKeys");

    public Task<ManagementResult<GetPolicyResponse>> GetPolicyAsync(GetPolicyRequest request, CancellationToken cancellationToken) => NotYet<GetPolicyResponse>("GetPolicy");
    public Task<ManagementResult<SetPolicyResponse>> SetPolicyAsync(SetPolicyRequest request, CancellationToken cancellationToken) => NotYet<SetPolicyResponse>("SetPolicy");

    public Task<ManagementResult<HealthResponse>> HealthAsync(HealthRequest request, CancellationToken cancellationToken) => NotYet<HealthResponse>("Health");

    public Task<ManagementResult<ListAuditEventsResponse>> ListAuditEventsAsync(ListAuditEventsRequest request, CancellationToken cancellationToken) => NotYet<ListAuditEventsResponse>("ListAuditEvents");
}
