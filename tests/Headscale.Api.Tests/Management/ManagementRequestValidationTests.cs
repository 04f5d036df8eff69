using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Grpc.Core;
using Headscale.Api.Management;
using Headscale.Management.V1;
using Xunit;

namespace Headscale.Api.Tests.Management;

public sealed class ManagementRequestValidationTests(ManagementServerFixture fixture) : IClassFixture<ManagementServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string, string> BadRequests => new()
    {
        { "create-user-no-name", "name is required" },
        { "rename-user-zero-id", "old_id is required" },
        { "delete-user-zero-id", "id is required" },
        { "get-node-zero-id", "node_id is required" },
        { "tags-no-prefix", "tags: 'web' must be 'tag:' followed by a name" },
        { "tags-empty-name", "tags: 'tag:' must be 'tag:' followed by a name" },
        { "tags-upper", "tags: 'tag:Web' must be lower case" },
        { "tags-space", "tags: 'tag:a b' must not contain white space" },
        { "acl-tags-bad", "acl_tags: 'server' must be 'tag:' followed by a name" },
        { "route-not-prefix", "routes: '10.0.0.0' is not an IP prefix such as 10.0.0.0/24 or fd00::/64" },
        { "route-short-ipv4", "routes: '10/8' is not an IP prefix such as 10.0.0.0/24 or fd00::/64" },
        { "route-too-long", "routes: '10.0.0.0/33' is not an IP prefix such as 10.0.0.0/24 or fd00::/64" },
        { "route-v6-too-long", "routes: 'fd00::/129' is not an IP prefix such as 10.0.0.0/24 or fd00::/64" },
        { "register-no-key", "key is required" },
        { "move-zero-user", "user is required" },
        { "backfill-unconfirmed", "confirmed must be true to backfill node IPs" },
        { "expire-key-empty", "key is required" },
    };

    private static IMessage Request(string name) => name switch
    {
        "create-user-no-name" => new CreateUserRequest { Name = " " },
        "rename-user-zero-id" => new RenameUserRequest { NewName = "x" },
        "delete-user-zero-id" => new DeleteUserRequest(),
        "get-node-zero-id" => new GetNodeRequest(),
        "tags-no-prefix" => new SetTagsRequest { NodeId = 1, Tags = { "tag:ok", "web" } },
        "tags-empty-name" => new SetTagsRequest { NodeId = 1, Tags = { "tag:" } },
        "tags-upper" => new SetTagsRequest { NodeId = 1, Tags = { "tag:Web" } },
        "tags-space" => new SetTagsRequest { NodeId = 1, Tags = { "tag:a b" } },
        "acl-tags-bad" => new CreatePreAuthKeyRequest { User = 1, AclTags = { "server" } },
        "route-not-prefix" => new SetApprovedRoutesRequest { NodeId = 1, Routes = { "10.0.0.0" } },
        "route-short-ipv4" => new SetApprovedRoutesRequest { NodeId = 1, Routes = { "10/8" } },
        "route-too-long" => new SetApprovedRoutesRequest { NodeId = 1, Routes = { "10.0.0.0/33" } },
        "route-v6-too-long" => new DebugCreateNodeRequest { User = "u", Key = "k", Name = "n", Routes = { "fd00::/129" } },
        "register-no-key" => new RegisterNodeRequest { User = "alice" },
        "move-zero-user" => new MoveNodeRequest { NodeId = 1 },
        "backfill-unconfirmed" => new BackfillNodeIPsRequest(),
        "expire-key-empty" => new ExpirePreAuthKeyRequest { User = 1 },
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };

    [Theory]
    [MemberData(nameof(BadRequests))]
    public void Bad_shape_is_invalid_argument_naming_the_field(string name, string message)
    {
        var error = ManagementRequestValidation.Check(Request(name));

        Assert.Equal(ManagementError.InvalidArgument(message), error);
    }

    [Theory]
    [InlineData("10.0.0.0/24")]
    [InlineData("10.0.0.1/24")]
    [InlineData("0.0.0.0/0")]
    [InlineData("::/0")]
    [InlineData("fd7a:115c:a1e0::/48")]
    public void Good_routes_pass(string route)
    {
        Assert.Null(ManagementRequestValidation.Check(new SetApprovedRoutesRequest { NodeId = 1, Routes = { route } }));
    }

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Grpc_refuses_bad_shape_before_the_domain(string name, string message)
    {
        var request = Request(name);
        var before = fixture.Facades.LastRequest;

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            GrpcDynamic.CallAsync(fixture.Server.GrpcInvoker("Bearer " + fixture.Key), RpcOf(request), request, Ct));

        Assert.Equal(StatusCode.InvalidArgument, error.StatusCode);
        Assert.Equal(message, error.Status.Detail);
        Assert.Same(before, fixture.Facades.LastRequest);
    }

    [Fact]
    public async Task Rest_refuses_bad_tags_with_400_as_headplane_expects()
    {
        var before = fixture.Facades.LastRequest;

        using var response = await fixture.Server.Rest(fixture.Key).PostAsync(
            "/api/v1/node/1/tags", new StringContent("""{"tags":["Web"]}""", Encoding.UTF8, "application/json"), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("tags: 'Web' must be 'tag:' followed by a name", (string)JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!["message"]!);
        Assert.Same(before, fixture.Facades.LastRequest);
    }

    private static string RpcOf(IMessage request) =>
        HeadscaleService.Descriptor.Methods.Single(m => m.InputType == request.Descriptor).Name;
}
