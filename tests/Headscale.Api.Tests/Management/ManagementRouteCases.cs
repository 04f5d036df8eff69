using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Headscale.Management.V1;

namespace Headscale.Api.Tests.Management;

/// <summary>
/// One call per route of the contract, as a REST request and as the equivalent gRPC request,
/// with the golden file holding the JSON that Headscale (grpc-gateway) would answer for the
/// <see cref="FakeManagement"/> data. REST and gRPC tests share this table so the two surfaces
/// are held to the same shape.
/// </summary>
internal sealed record ManagementRouteCase(
    string Rpc, HttpMethod Method, string Path, string? Body, IMessage GrpcRequest, string Golden)
{
    public override string ToString() => Rpc;

    public static readonly IReadOnlyList<ManagementRouteCase> All =
    [
        new("CreateUser", HttpMethod.Post, "/api/v1/user",
            """{"name":"carol","displayName":"Carol C","email":"carol@example.com","pictureUrl":"https://example.com/c.png"}""",
            new CreateUserRequest { Name = "carol", DisplayName = "Carol C", Email = "carol@example.com", PictureUrl = "https://example.com/c.png" },
            "create-user.json"),
        new("RenameUser", HttpMethod.Post, "/api/v1/user/1/rename/alicia", null,
            new RenameUserRequest { OldId = 1, NewName = "alicia" }, "rename-user.json"),
        new("DeleteUser", HttpMethod.Delete, "/api/v1/user/2", null, new DeleteUserRequest { Id = 2 }, "empty.json"),
        new("ListUsers", HttpMethod.Get, "/api/v1/user", null, new ListUsersRequest(), "list-users.json"),
        new("CreatePreAuthKey", HttpMethod.Post, "/api/v1/preauthkey",
            """{"user":"1","reusable":false,"ephemeral":true,"expiration":"2026-02-01T00:00:00Z","aclTags":["tag:web"]}""",
            new CreatePreAuthKeyRequest { User = 1, Ephemeral = true, Expiration = FakeManagement.KeyExpiry, AclTags = { "tag:web" } },
            "create-preauthkey.json"),
        new("ExpirePreAuthKey", HttpMethod.Post, "/api/v1/preauthkey/expire",
            """{"user":"1","key":"0123456789abcdef0123456789abcdef0123456789abcdef"}""",
            new ExpirePreAuthKeyRequest { User = 1, Key = "0123456789abcdef0123456789abcdef0123456789abcdef" }, "empty.json"),
        new("ListPreAuthKeys", HttpMethod.Get, "/api/v1/preauthkey?user=1", null, new ListPreAuthKeysRequest { User = 1 }, "list-preauthkeys.json"),
        new("DebugCreateNode", HttpMethod.Post, "/api/v1/debug/node",
            """{"user":"alice","key":"abcdefghijklmnopqrstuvwx","name":"debug","routes":["10.1.0.0/16"]}""",
            new DebugCreateNodeRequest { User = "alice", Key = "abcdefghijklmnopqrstuvwx", Name = "debug", Routes = { "10.1.0.0/16" } },
            "debug-create-node.json"),
        new("GetNode", HttpMethod.Get, "/api/v1/node/1", null, new GetNodeRequest { NodeId = 1 }, "node-laptop.json"),
        new("SetTags", HttpMethod.Post, "/api/v1/node/2/tags", """{"tags":["tag:db"]}""",
            new SetTagsRequest { NodeId = 2, Tags = { "tag:db" } }, "set-tags.json"),
        new("SetApprovedRoutes", HttpMethod.Post, "/api/v1/node/1/approve_routes", """{"routes":["10.0.0.0/24"]}""",
            new SetApprovedRoutesRequest { NodeId = 1, Routes = { "10.0.0.0/24" } }, "node-laptop.json"),
        new("RegisterNode", HttpMethod.Post, "/api/v1/node/register?user=alice&key=abcdefghijklmnopqrstuvwx", null,
            new RegisterNodeRequest { User = "alice", Key = "abcdefghijklmnopqrstuvwx" }, "node-laptop.json"),
        new("DeleteNode", HttpMethod.Delete, "/api/v1/node/1", null, new DeleteNodeRequest { NodeId = 1 }, "empty.json"),
        new("ExpireNode", HttpMethod.Post, "/api/v1/node/1/expire?expiry=2026-02-01T00:00:00Z", null,
            new ExpireNodeRequest { NodeId = 1, Expiry = FakeManagement.KeyExpiry }, "expire-node.json"),
        new("RenameNode", HttpMethod.Post, "/api/v1/node/1/rename/work-laptop", null,
            new RenameNodeRequest { NodeId = 1, NewName = "work-laptop" }, "rename-node.json"),
        new("ListNodes", HttpMethod.Get, "/api/v1/node", null, new ListNodesRequest(), "list-nodes.json"),
        new("MoveNode", HttpMethod.Post, "/api/v1/node/1/user", """{"user":"2"}""", new MoveNodeRequest { NodeId = 1, User = 2 }, "move-node.json"),
        new("BackfillNodeIPs", HttpMethod.Post, "/api/v1/node/backfillips?confirmed=true", null,
            new BackfillNodeIPsRequest { Confirmed = true }, "backfill-node-ips.json"),
        new("GetPolicy", HttpMethod.Get, "/api/v1/policy", null, new GetPolicyRequest(), "get-policy.json"),
        new("SetPolicy", HttpMethod.Put, "/api/v1/policy", """{"policy":"{\"acls\":[]}"}""",
            new SetPolicyRequest { Policy = "{\"acls\":[]}" }, "get-policy.json"),
        new("Health", HttpMethod.Get, "/api/v1/health", null, new HealthRequest(), "health.json"),
    ];

    /// <summary>The API-key routes: their data comes from the key store, not from the fake.</summary>
    public static readonly IReadOnlyList<ManagementRouteCase> ApiKeyRoutes =
    [
        new("CreateApiKey", HttpMethod.Post, "/api/v1/apikey", """{"expiration":"2026-03-01T00:00:00Z"}""",
            new CreateApiKeyRequest { Expiration = Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero)) }, ""),
        new("ExpireApiKey", HttpMethod.Post, "/api/v1/apikey/expire", """{"prefix":"abcdefg"}""", new ExpireApiKeyRequest { Prefix = "abcdefg" }, ""),
        new("ListApiKeys", HttpMethod.Get, "/api/v1/apikey", null, new ListApiKeysRequest(), ""),
        new("DeleteApiKey", HttpMethod.Delete, "/api/v1/apikey/abcdefg", null, new DeleteApiKeyRequest { Prefix = "abcdefg" }, ""),
    ];

    /// <summary>Routes this server adds to Headscale's contract (not in the 0.27 OpenAPI fingerprint).</summary>
    public static readonly IReadOnlyList<ManagementRouteCase> ExtensionRoutes =
    [
        new("ListAuditEvents", HttpMethod.Get, "/api/v1/audit?kind=user.&pageSize=5", null, new ListAuditEventsRequest { Kind = "user.", PageSize = 5 }, "audit"),
    ];

    public static IEnumerable<ManagementRouteCase> Everything => All.Concat(ApiKeyRoutes).Concat(ExtensionRoutes);

    public static ManagementRouteCase Named(string rpc) => Everything.Single(c => c.Rpc == rpc);
}
