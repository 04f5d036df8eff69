using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Headscale.Management.V1;
using Xunit;

namespace Headscale.Api.Tests.Management;

/// <summary>
/// Every REST route of the contract against golden JSON in Headscale's (grpc-gateway's)
/// conventions, and the error bodies and statuses clients depend on.
/// </summary>
public sealed class RestShapeTests(ManagementServerFixture fixture) : IClassFixture<ManagementServerFixture>
{
    public static TheoryData<string> Routes => new(ManagementRouteCase.All.Select(c => c.Rpc));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private async Task<HttpResponseMessage> SendAsync(HttpMethod method, string path, string? body)
    {
        using var request = new HttpRequestMessage(method, path);
        if (body is not null)
        {
            request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        }

        return await fixture.Server.Rest(fixture.Key).SendAsync(request, Ct);
    }

    [Theory]
    [MemberData(nameof(Routes))]
    public async Task Route_answers_200_with_grpc_gateway_json(string rpc)
    {
        var route = ManagementRouteCase.Named(rpc);

        using var response = await SendAsync(route.Method, route.Path, route.Body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        GoldenJson.AssertMatches(route.Golden, await response.Content.ReadAsStringAsync(Ct));
        // Path, query and body arrived in the request message exactly as gRPC would send them.
        Assert.Equal(route.GrpcRequest, fixture.Facades.LastRequest);
    }

    [Fact]
    public async Task Non_ascii_text_is_written_as_utf8_not_escaped()
    {
        using var response = await SendAsync(HttpMethod.Post, "/api/v1/user", """{"name":"zoe","displayName":"Zoë & Co <ops>"}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("\"displayName\":\"Zoë & Co <ops>\"", await response.Content.ReadAsStringAsync(Ct), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Not_found_is_404_with_grpc_status_body()
    {
        using var response = await SendAsync(HttpMethod.Get, $"/api/v1/node/{FakeManagement.MissingId}", null);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        AssertErrorBody(await response.Content.ReadAsStringAsync(Ct), 5, "node not found");
    }

    [Fact]
    public async Task An_actor_timeout_is_503_unavailable_and_a_crash_is_500_internal_without_its_details()
    {
        using var timeout = await SendAsync(HttpMethod.Get, $"/api/v1/node/{FakeManagement.TimeoutId}", null);
        using var crash = await SendAsync(HttpMethod.Get, $"/api/v1/node/{FakeManagement.CrashId}", null);
        var grpc = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () =>
            await fixture.Server.Grpc(fixture.Key).GetNodeAsync(new Headscale.Management.V1.GetNodeRequest { NodeId = FakeManagement.TimeoutId }, cancellationToken: Ct));

        Assert.Equal(HttpStatusCode.ServiceUnavailable, timeout.StatusCode);
        AssertErrorBody(await timeout.Content.ReadAsStringAsync(Ct), 14, "the server did not answer in time; try again");
        Assert.Equal(HttpStatusCode.InternalServerError, crash.StatusCode);
        var crashBody = await crash.Content.ReadAsStringAsync(Ct);
        AssertErrorBody(crashBody, 13, "internal error; the server log has the details");
        Assert.DoesNotContain("hunter2", crashBody);
        Assert.Equal(Grpc.Core.StatusCode.Unavailable, grpc.StatusCode);
    }

    [Fact]
    public async Task Listing_pre_auth_keys_without_user_fails_as_0_27_does()
    {
        using var response = await SendAsync(HttpMethod.Get, "/api/v1/preauthkey", null);

        // Headplane falls back to one call per user only when this is an error.
        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        AssertErrorBody(await response.Content.ReadAsStringAsync(Ct), 2, "record not found");
    }

    [Fact]
    public async Task Policy_syntax_error_keeps_the_substring_headplane_matches()
    {
        using var response = await SendAsync(HttpMethod.Put, "/api/v1/policy", """{"policy":"not json"}""");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!;
        Assert.StartsWith("parsing HuJSON: ", (string)body["message"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Plain_domain_failure_is_500_unknown_as_in_headscale()
    {
        // Headscale registers by user name; Headplane 0.6.3 sends the id, which fails like this.
        using var response = await SendAsync(HttpMethod.Post, "/api/v1/node/register?user=2&key=abcdefghijklmnopqrstuvwx", null);

        Assert.Equal(HttpStatusCode.InternalServerError, response.StatusCode);
        AssertErrorBody(await response.Content.ReadAsStringAsync(Ct), 2, "user not found");
    }

    [Fact]
    public async Task Register_reads_user_and_key_from_the_query_and_ignores_the_body()
    {
        // Headplane sends the values in both places; Headscale binds only the query.
        using var response = await SendAsync(
            HttpMethod.Post, "/api/v1/node/register?user=alice&key=abcdefghijklmnopqrstuvwx", """{"user":"1","key":"zzzz"}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(new RegisterNodeRequest { User = "alice", Key = "abcdefghijklmnopqrstuvwx" }, fixture.Facades.LastRequest);
    }

    [Theory]
    [InlineData("""{"user":"2"}""")]
    [InlineData("""{"user":2}""")]
    public async Task Uint64_in_a_body_is_accepted_as_string_or_number(string body)
    {
        using var response = await SendAsync(HttpMethod.Post, "/api/v1/node/1/user", body);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(new MoveNodeRequest { NodeId = 1, User = 2 }, fixture.Facades.LastRequest);
    }

    [Fact]
    public async Task Unknown_body_fields_are_ignored_as_grpc_gateway_does()
    {
        // Headplane 0.7 sends 0.28-only fields (e.g. "id") to older servers.
        using var response = await SendAsync(HttpMethod.Post, "/api/v1/preauthkey/expire", """{"user":"1","key":"k","id":"7"}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(new ExpirePreAuthKeyRequest { User = 1, Key = "k" }, fixture.Facades.LastRequest);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("text/plain")]
    public async Task Body_is_read_as_json_whatever_the_content_type_as_grpc_gateway_does(string? contentType)
    {
        // curl -d sends form encoding; grpc-gateway parses the body as JSON regardless.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/v1/node/1/user")
        {
            Content = new ByteArrayContent(Encoding.UTF8.GetBytes("""{"user":"2"}""")),
        };
        if (contentType is not null)
        {
            request.Content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue(contentType);
        }

        using var response = await fixture.Server.Rest(fixture.Key).SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(new MoveNodeRequest { NodeId = 1, User = 2 }, fixture.Facades.LastRequest);
    }

    [Fact]
    public async Task Null_timestamp_in_a_body_means_unset()
    {
        using var response = await SendAsync(HttpMethod.Post, "/api/v1/preauthkey", """{"user":"1","expiration":null}""");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(new CreatePreAuthKeyRequest { User = 1 }, fixture.Facades.LastRequest);
    }

    [Theory]
    [InlineData("POST", "/api/v1/user", "{not json")]
    [InlineData("POST", "/api/v1/user", """{"name":5}""")]
    [InlineData("POST", "/api/v1/node/1/user", """{"user":"two"}""")]
    [InlineData("GET", "/api/v1/node/abc", null)]
    [InlineData("GET", "/api/v1/node/-1", null)]
    [InlineData("POST", "/api/v1/node/backfillips?confirmed=maybe", null)]
    public async Task Malformed_input_is_400_and_never_reaches_the_domain(string method, string path, string? body)
    {
        var before = fixture.Facades.LastRequest;

        using var response = await SendAsync(new HttpMethod(method), path, body);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Same(before, fixture.Facades.LastRequest);
    }

    private static void AssertErrorBody(string json, int code, string message)
    {
        var body = JsonNode.Parse(json)!.AsObject();
        Assert.Equal(["code", "message", "details"], body.Select(p => p.Key));
        Assert.Equal(code, (int)body["code"]!);
        Assert.Equal(message, (string)body["message"]!);
        Assert.Empty(body["details"]!.AsArray());
    }
}

/// <summary>The same routes through gRPC: same data, same shape once formatted as proto3 JSON.</summary>
public sealed class GrpcShapeTests(ManagementServerFixture fixture) : IClassFixture<ManagementServerFixture>
{
    private static readonly JsonFormatter Proto3Json = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true));

    public static TheoryData<string> Methods => new(ManagementRouteCase.All.Select(c => c.Rpc));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Theory]
    [MemberData(nameof(Methods))]
    public async Task Method_answers_with_the_same_data_as_rest(string rpc)
    {
        var route = ManagementRouteCase.Named(rpc);

        var response = await GrpcDynamic.CallAsync(fixture.Server.GrpcInvoker("Bearer " + fixture.Key), rpc, route.GrpcRequest, Ct);

        GoldenJson.AssertMatches(route.Golden, Proto3Json.Format(response), absentMeansNull: true);
        Assert.Equal(route.GrpcRequest, fixture.Facades.LastRequest);
    }

    [Fact]
    public async Task Not_found_is_status_not_found()
    {
        var error = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () =>
            await fixture.Server.Grpc(fixture.Key).GetNodeAsync(new GetNodeRequest { NodeId = FakeManagement.MissingId }, cancellationToken: Ct));

        Assert.Equal(Grpc.Core.StatusCode.NotFound, error.StatusCode);
        Assert.Equal("node not found", error.Status.Detail);
    }

    [Fact]
    public async Task Listing_pre_auth_keys_without_user_is_status_unknown()
    {
        var error = await Assert.ThrowsAsync<Grpc.Core.RpcException>(async () =>
            await fixture.Server.Grpc(fixture.Key).ListPreAuthKeysAsync(new ListPreAuthKeysRequest(), cancellationToken: Ct));

        Assert.Equal(Grpc.Core.StatusCode.Unknown, error.StatusCode);
        Assert.Equal("record not found", error.Status.Detail);
    }
}
