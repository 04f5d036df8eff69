using Headscale.Management.V1;

namespace Headscale.Api.Management;

// The management surface talks to the domain only through these facades, one per area.
// Requests arrive as the contract's messages (already parsed by gRPC or JSON transcoding) and
// answers are the contract's responses, so an implementation translates between the actors'
// records and the wire in one place. Expected failures are ManagementErrors, never exceptions.
// Implementations own Ask timeouts and honour the CancellationToken (the request's abort token).

/// <summary>Users: create, rename, delete, list (Headscale 0.27 semantics).</summary>
public interface IUserManagement
{
    Task<ManagementResult<CreateUserResponse>> CreateUserAsync(CreateUserRequest request, CancellationToken cancellationToken);
    Task<ManagementResult<RenameUserResponse>> RenameUserAsync(RenameUserRequest request, CancellationToken cancellationToken);
    Task<ManagementResult<DeleteUserResponse>> DeleteUserAsync(DeleteUserRequest request, CancellationToken cancellationToken);
    Task<ManagementResult<ListUsersResponse>> ListUsersAsync(ListUsersRequest request, CancellationToken cancellationToken);
}

/// <summary>Nodes: every node RPC, including the 0.27-only MoveNode and the debug node.</summary>
public interface INodeManagement
{
    Task<ManagementResult<DebugCreateNodeResponse>> DebugCreateNodeAsync(DebugCreateNodeRequest request, CancellationToken cancellationToken);
    Task<ManagementResult<GetNodeResponse>> GetNodeAsync(GetNodeRequest request, CancellationToken cancellationToken);
    Task<ManagementResult<SetTagsResponse>> SetTagsAsync(SetTagsRequest request, CancellationToken cancellationToken);
    Task<ManagementResult<SetApprovedRoutesResponse>> SetApprovedRoutesAsync(SetApprovedRoutesRequest request, CancellationToken cancellationToken);
    Task<ManagementResult<RegisterNodeResponse>> RegisterNodeAsync(RegisterNodeRequest request, CancellationToken cancellationToken);
    Task<ManagementResult<DeleteNodeResponse>> DeleteNodeAsync(DeleteNodeRequest request, CancellationToken cancellationToken);
    Task<ManagementResult<ExpireNodeResponse>> ExpireNodeAsync(ExpireNodeRequest request, CancellationToken cancellationToken);
    Task<ManagementResult<RenameNodeResponse>> RenameNodeAsync(RenameNodeRequest request, CancellationToken cancellationToken);
    Task<ManagementResult<ListNodesResponse>> ListNodesAsync(ListNodesRequest request, CancellationToken cancellationToken);
    Task<ManagementResult<MoveNodeResponse>> MoveNodeAsync(MoveNodeRequest request, CancellationToken cancellationToken);
    Task<ManagementResult<BackfillNodeIPsResponse>> BackfillNodeIPsAsync(BackfillNodeIPsRequest request, CancellationToken cancellationToken);
}

/// <summary>
/// Pre-auth keys. ListPreAuthKeys with user 0 must fail as 0.27 does
/// (<see cref="ManagementErrors.RecordNotFound"/>) or list every key with its user filled in.
/// </summary>
public interface IPreAuthKeyManagement
{
    Task<ManagementResult<CreatePreAuthKeyResponse>> CreatePreAuthKeyAsync(CreatePreAuthKeyRequest request, CancellationToken cancellationToken);
    Task<ManagementResult<ExpirePreAuthKeyResponse>> ExpirePreAuthKeyAsync(ExpirePreAuthKeyRequest request, CancellationToken cancellationToken);
    Task<ManagementResult<ListPreAuthKeysResponse>> ListPreAuthKeysAsync(ListPreAuthKeysRequest request, CancellationToken cancellationToken);
}

/// <summary>API keys: create, expire, list, delete. Implemented in this layer over <see cref="ApiKeys.IApiKeyStore"/>.</summary>
public interface IApiKeyManagement
{
    Task<ManagementResult<CreateApiKeyResponse>> CreateApiKeyAsync(CreateApiKeyRequest request, CancellationToken cancellationToken);
    Task<ManagementResult<ExpireApiKeyResponse>> ExpireApiKeyAsync(ExpireApiKeyRequest request, CancellationToken cancellationToken);
    Task<ManagementResult<ListApiKeysResponse>> ListApiKeysAsync(ListApiKeysRequest request, CancellationToken cancellationToken);
    Task<ManagementResult<DeleteApiKeyResponse>> DeleteApiKeyAsync(DeleteApiKeyRequest request, CancellationToken cancellationToken);
}

/// <summary>
/// The policy. Errors must use the wording in <see cref="ManagementErrors"/> (not found,
/// update disabled, parse error prefixes): Headplane matches on it.
/// </summary>
public interface IPolicyManagement
{
    Task<ManagementResult<GetPolicyResponse>> GetPolicyAsync(GetPolicyRequest request, CancellationToken cancellationToken);
    Task<ManagementResult<SetPolicyResponse>> SetPolicyAsync(SetPolicyRequest request, CancellationToken cancellationToken);
}

/// <summary>The Health RPC: whether the store behind the domain answers.</summary>
public interface IHealthManagement
{
    Task<ManagementResult<HealthResponse>> HealthAsync(HealthRequest request, CancellationToken cancellationToken);
}

/// <summary>The audit log (an extension of this server): admin actions and authentication events, filtered and paged.</summary>
public interface IAuditManagement
{
    Task<ManagementResult<ListAuditEventsResponse>> ListAuditEventsAsync(ListAuditEventsRequest request, CancellationToken cancellationToken);
}
