using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Headscale.Api.Management;
using Headscale.Management.V1;

namespace Headscale.Api.Tests.Management;

/// <summary>
/// Stands in for the actor-backed facades in Api-layer tests: fixed data, plus the last request
/// it received so tests can check how REST arguments were bound. Errors are triggered by
/// reserved ids (404) or names, so the status mapping can be observed end to end.
/// </summary>
internal sealed class FakeManagement : IUserManagement, INodeManagement, IPreAuthKeyManagement, IPolicyManagement, IHealthManagement, IAuditManagement
{
    public const ulong MissingId = 404;

    /// <summary>A node id whose lookup times out in the actor layer, as during a cluster start.</summary>
    public const ulong TimeoutId = 503;

    /// <summary>A node id whose lookup throws an unexpected exception carrying internals.</summary>
    public const ulong CrashId = 500;

    public static readonly Timestamp Created = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.Zero));
    public static readonly Timestamp Seen = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 1, 3, 4, 5, 6, 500, TimeSpan.Zero));
    public static readonly Timestamp KeyExpiry = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 2, 1, 0, 0, 0, TimeSpan.Zero));

    public IMessage? LastRequest { get; private set; }

    public static User Alice => new()
    {
        Id = 1, Name = "alice", CreatedAt = Created, DisplayName = "Alice A", Email = "alice@example.com",
    };

    public static User Bob => new()
    {
        Id = 2, Name = "bob", CreatedAt = Created, DisplayName = "Bob B", Email = "bob@example.com",
        Provider = "oidc", ProviderId = "https://idp.example.com/b0b", ProfilePicUrl = "https://idp.example.com/b0b.png",
    };

    public static Node AliceLaptop => new()
    {
        Id = 1,
        MachineKey = "mkey:" + new string('a', 64),
        NodeKey = "nodekey:" + new string('b', 64),
        DiscoKey = "discokey:" + new string('c', 64),
        IpAddresses = { "100.64.0.1", "fd7a:115c:a1e0::1" },
        Name = "laptop",
        User = Alice,
        LastSeen = Seen,
        CreatedAt = Created,
        RegisterMethod = RegisterMethod.AuthKey,
        ValidTags = { "tag:web" },
        GivenName = "laptop",
        Online = true,
        ApprovedRoutes = { "10.0.0.0/24" },
        AvailableRoutes = { "10.0.0.0/24", "0.0.0.0/0", "::/0" },
        SubnetRoutes = { "10.0.0.0/24" },
        Tags = { "tag:web" },
    };

    /// <summary>A node nobody owns and that never reported: every message field unset, every list empty.</summary>
    public static Node TaggedServer => new()
    {
        Id = 2, Name = "server", GivenName = "server", NodeKey = "nodekey:" + new string('d', 64),
        RegisterMethod = RegisterMethod.Cli, ForcedTags = { "tag:server" }, Tags = { "tag:server" },
    };

    public static PreAuthKey AliceKey => new()
    {
        User = Alice, Id = 5, Key = "0123456789abcdef0123456789abcdef0123456789abcdef", Ephemeral = true,
        Expiration = KeyExpiry, CreatedAt = Created, AclTags = { "tag:web" },
    };

    private Task<ManagementResult<T>> Answer<T>(IMessage request, ManagementResult<T> result)
    {
        LastRequest = request;
        return Task.FromResult(result);
    }

    private static ManagementError NodeNotFound => ManagementError.NotFound("node not found");

    public Task<ManagementResult<CreateUserResponse>> CreateUserAsync(CreateUserRequest request, CancellationToken cancellationToken) =>
        Answer(request, ManagementResult<CreateUserResponse>.Success(new CreateUserResponse
            {
                User = new User { Id = 3, Name = request.Name, DisplayName = request.DisplayName, Email = request.Email, ProfilePicUrl = request.PictureUrl, CreatedAt = Created },
            }));

    public Task<ManagementResult<RenameUserResponse>> RenameUserAsync(RenameUserRequest request, CancellationToken cancellationToken) =>
        Answer(request, request.OldId == MissingId
            ? ManagementError.NotFound("user not found")
            : ManagementResult<RenameUserResponse>.Success(new RenameUserResponse { User = new User(Alice) { Id = request.OldId, Name = request.NewName } }));

    public Task<ManagementResult<DeleteUserResponse>> DeleteUserAsync(DeleteUserRequest request, CancellationToken cancellationToken) =>
        Answer(request, request.Id == MissingId
            ? ManagementError.NotFound("user not found")
            : ManagementResult<DeleteUserResponse>.Success(new DeleteUserResponse()));

    public Task<ManagementResult<ListUsersResponse>> ListUsersAsync(ListUsersRequest request, CancellationToken cancellationToken) =>
        Answer(request, ManagementResult<ListUsersResponse>.Success(new ListUsersResponse { Users = { Alice, Bob } }));

    public Task<ManagementResult<DebugCreateNodeResponse>> DebugCreateNodeAsync(DebugCreateNodeRequest request, CancellationToken cancellationToken) =>
        Answer(request, ManagementResult<DebugCreateNodeResponse>.Success(new DebugCreateNodeResponse
        {
            Node = new Node { Id = 3, Name = request.Name, GivenName = request.Name, User = Alice, AvailableRoutes = { request.Routes } },
        }));

    public Task<ManagementResult<GetNodeResponse>> GetNodeAsync(GetNodeRequest request, CancellationToken cancellationToken) => request.NodeId switch
    {
        TimeoutId => throw new Akka.Actor.AskTimeoutException("Timeout after 00:00:30 seconds"),
        CrashId => throw new InvalidOperationException("connection string Password=hunter2 rejected"),
        _ => Answer(request, request.NodeId == MissingId ? NodeNotFound : ManagementResult<GetNodeResponse>.Success(new GetNodeResponse { Node = AliceLaptop })),
    };

    public Task<ManagementResult<SetTagsResponse>> SetTagsAsync(SetTagsRequest request, CancellationToken cancellationToken) =>
        Answer(request, ManagementResult<SetTagsResponse>.Success(new SetTagsResponse { Node = ServerTagged(request.Tags) }));

    private static Node ServerTagged(IEnumerable<string> tags)
    {
        var node = TaggedServer;
        node.ForcedTags.Clear();
        node.ForcedTags.Add(tags);
        node.Tags.Clear();
        node.Tags.Add(node.ForcedTags);
        return node;
    }

    public Task<ManagementResult<SetApprovedRoutesResponse>> SetApprovedRoutesAsync(SetApprovedRoutesRequest request, CancellationToken cancellationToken) =>
        Answer(request, ManagementResult<SetApprovedRoutesResponse>.Success(new SetApprovedRoutesResponse { Node = AliceLaptop }));

    public Task<ManagementResult<RegisterNodeResponse>> RegisterNodeAsync(RegisterNodeRequest request, CancellationToken cancellationToken) =>
        Answer(request, request.User != "alice"
            ? ManagementError.Unknown("user not found")
            : ManagementResult<RegisterNodeResponse>.Success(new RegisterNodeResponse { Node = AliceLaptop }));

    public Task<ManagementResult<DeleteNodeResponse>> DeleteNodeAsync(DeleteNodeRequest request, CancellationToken cancellationToken) =>
        Answer(request, request.NodeId == MissingId ? NodeNotFound : ManagementResult<DeleteNodeResponse>.Success(new DeleteNodeResponse()));

    public Task<ManagementResult<ExpireNodeResponse>> ExpireNodeAsync(ExpireNodeRequest request, CancellationToken cancellationToken) =>
        Answer(request, ManagementResult<ExpireNodeResponse>.Success(new ExpireNodeResponse { Node = new Node(AliceLaptop) { Expiry = request.Expiry ?? Seen } }));

    public Task<ManagementResult<RenameNodeResponse>> RenameNodeAsync(RenameNodeRequest request, CancellationToken cancellationToken) =>
        Answer(request, ManagementResult<RenameNodeResponse>.Success(new RenameNodeResponse { Node = new Node(AliceLaptop) { GivenName = request.NewName } }));

    public Task<ManagementResult<ListNodesResponse>> ListNodesAsync(ListNodesRequest request, CancellationToken cancellationToken) =>
        Answer(request, ManagementResult<ListNodesResponse>.Success(new ListNodesResponse { Nodes = { AliceLaptop, TaggedServer } }));

    public Task<ManagementResult<MoveNodeResponse>> MoveNodeAsync(MoveNodeRequest request, CancellationToken cancellationToken) =>
        Answer(request, ManagementResult<MoveNodeResponse>.Success(new MoveNodeResponse { Node = new Node(AliceLaptop) { User = Bob } }));

    public Task<ManagementResult<BackfillNodeIPsResponse>> BackfillNodeIPsAsync(BackfillNodeIPsRequest request, CancellationToken cancellationToken) =>
        Answer(request, ManagementResult<BackfillNodeIPsResponse>.Success(new BackfillNodeIPsResponse { Changes = { "assigned IPv6 to node 2" } }));

    public Task<ManagementResult<CreatePreAuthKeyResponse>> CreatePreAuthKeyAsync(CreatePreAuthKeyRequest request, CancellationToken cancellationToken) =>
        Answer(request, ManagementResult<CreatePreAuthKeyResponse>.Success(new CreatePreAuthKeyResponse { PreAuthKey = AliceKey }));

    public Task<ManagementResult<ExpirePreAuthKeyResponse>> ExpirePreAuthKeyAsync(ExpirePreAuthKeyRequest request, CancellationToken cancellationToken) =>
        Answer(request, ManagementResult<ExpirePreAuthKeyResponse>.Success(new ExpirePreAuthKeyResponse()));

    public Task<ManagementResult<ListPreAuthKeysResponse>> ListPreAuthKeysAsync(ListPreAuthKeysRequest request, CancellationToken cancellationToken) =>
        Answer(request, request.User == 0
            ? ManagementError.Unknown(ManagementErrors.RecordNotFound)
            : ManagementResult<ListPreAuthKeysResponse>.Success(new ListPreAuthKeysResponse { PreAuthKeys = { AliceKey } }));

    public Task<ManagementResult<GetPolicyResponse>> GetPolicyAsync(GetPolicyRequest request, CancellationToken cancellationToken) =>
        Answer(request, ManagementResult<GetPolicyResponse>.Success(new GetPolicyResponse { Policy = "{\"acls\":[]}", UpdatedAt = Created }));

    public Task<ManagementResult<SetPolicyResponse>> SetPolicyAsync(SetPolicyRequest request, CancellationToken cancellationToken) =>
        Answer(request, request.Policy.StartsWith('{')
            ? ManagementResult<SetPolicyResponse>.Success(new SetPolicyResponse { Policy = request.Policy, UpdatedAt = Created })
            : ManagementError.InvalidArgument(ManagementErrors.PolicyHuJsonParsePrefix + "invalid character at offset 0"));

    public Task<ManagementResult<HealthResponse>> HealthAsync(HealthRequest request, CancellationToken cancellationToken) =>
        Answer(request, ManagementResult<HealthResponse>.Success(new HealthResponse { DatabaseConnectivity = true }));

    public static AuditEvent AuditEntry => new()
    {
        Id = 7, Time = Created, Kind = "user.created", Actor = "Cli", Subject = "user:1", Detail = "user alice created", Outcome = "ok", Via = "CreateUser",
    };

    public Task<ManagementResult<ListAuditEventsResponse>> ListAuditEventsAsync(ListAuditEventsRequest request, CancellationToken cancellationToken) =>
        Answer(request, ManagementResult<ListAuditEventsResponse>.Success(new ListAuditEventsResponse { Events = { AuditEntry } }));
}
