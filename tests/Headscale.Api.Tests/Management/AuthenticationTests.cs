using System.Net;
using System.Text;
using Grpc.Core;
using Headscale.Api.Management.ApiKeys;
using Headscale.Management.V1;
using Xunit;

namespace Headscale.Api.Tests.Management;

/// <summary>
/// Every route and method refuses every kind of bad credential the same way and reveals nothing;
/// valid keys of both forms pass; the unix socket needs none.
/// </summary>
public sealed class AuthenticationTests(ManagementServerFixture fixture) : IClassFixture<ManagementServerFixture>
{
    /// <summary>Kinds of bad credentials; each resolves to an Authorization header value (or none).</summary>
    public enum BadCredential
    {
        Missing,
        EmptyBearer,
        Malformed,
        NotBearerScheme,
        UnknownPrefix,
        WrongSecret,
        Expired,
        NeverExpiring,
    }

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string, BadCredential> RoutesTimesBadCredentials
    {
        get
        {
            var data = new TheoryData<string, BadCredential>();
            foreach (var route in ManagementRouteCase.Everything)
            {
                foreach (var credential in Enum.GetValues<BadCredential>())
                {
                    data.Add(route.Rpc, credential);
                }
            }

            return data;
        }
    }

    public static TheoryData<string> AllRoutes => new(ManagementRouteCase.Everything.Select(c => c.Rpc));

    private string? AuthorizationFor(BadCredential credential)
    {
        var store = fixture.Server.Keys;
        var now = fixture.Server.Clock.Now;
        switch (credential)
        {
            case BadCredential.Missing:
                return null;
            case BadCredential.EmptyBearer:
                return "Bearer ";
            case BadCredential.Malformed:
                return "Bearer " + fixture.Key[..^1];
            case BadCredential.NotBearerScheme:
                return "Basic " + fixture.Key;
            case BadCredential.UnknownPrefix:
                return "Bearer " + ApiKeyCodec.Generate(ApiKeyForm.Legacy).FullKey;
            case BadCredential.WrongSecret:
                return "Bearer " + fixture.Key[..8] + new string('A', ApiKeyCodec.LegacySecretLength);
            case BadCredential.Expired:
            {
                var key = ApiKeyCodec.Generate(ApiKeyForm.Legacy);
                store.Put(key.Prefix, InMemoryApiKeyStore.CheapHash(key.Secret), now - TimeSpan.FromSeconds(1), now - TimeSpan.FromDays(1));
                return "Bearer " + key.FullKey;
            }

            case BadCredential.NeverExpiring:
            {
                // No expiration stored counts as expired, as in Headscale.
                var key = ApiKeyCodec.Generate(ApiKeyForm.Hskey);
                store.Put(key.Prefix, InMemoryApiKeyStore.CheapHash(key.Secret), null, now);
                return "Bearer " + key.FullKey;
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(credential));
        }
    }

    [Theory]
    [MemberData(nameof(RoutesTimesBadCredentials))]
    public async Task Rest_route_refuses_bad_credential_with_plain_401(string rpc, BadCredential credential)
    {
        var route = ManagementRouteCase.Named(rpc);
        var before = fixture.Facades.LastRequest;
        using var request = new HttpRequestMessage(route.Method, route.Path);
        if (route.Body is not null)
        {
            request.Content = new StringContent(route.Body, Encoding.UTF8, "application/json");
        }

        using var response = await fixture.Server.RestWithAuthorization(AuthorizationFor(credential)).SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("Unauthorized", await response.Content.ReadAsStringAsync(Ct));
        Assert.Same(before, fixture.Facades.LastRequest);
    }

    [Theory]
    [MemberData(nameof(RoutesTimesBadCredentials))]
    public async Task Grpc_method_refuses_bad_credential_with_unauthenticated(string rpc, BadCredential credential)
    {
        var route = ManagementRouteCase.Named(rpc);
        var before = fixture.Facades.LastRequest;

        var error = await Assert.ThrowsAsync<RpcException>(() =>
            GrpcDynamic.CallAsync(fixture.Server.GrpcInvoker(AuthorizationFor(credential)), rpc, route.GrpcRequest, Ct));

        Assert.Equal(StatusCode.Unauthenticated, error.StatusCode);
        Assert.Equal("Unauthorized", error.Status.Detail);
        Assert.Same(before, fixture.Facades.LastRequest);
    }

    [Theory]
    [InlineData("/API/V1/node")]
    [InlineData("/Api/v1/user")]
    [InlineData("/api/v1/node/")]
    [InlineData("/api/v1//node")]
    public async Task Other_spellings_of_api_paths_are_not_a_way_around_the_key(string path)
    {
        var before = fixture.Facades.LastRequest;

        using var response = await fixture.Server.Rest().GetAsync(path, Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Same(before, fixture.Facades.LastRequest);
    }

    [Theory]
    [InlineData("HEADSCALE.V1.HEADSCALESERVICE", "ListNodes")]
    [InlineData("headscale.v1.HeadscaleService", "LISTNODES")]
    public async Task Other_spellings_of_grpc_paths_are_not_a_way_around_the_key(string service, string method)
    {
        var before = fixture.Facades.LastRequest;
        var call = new Method<ListNodesRequest, ListNodesResponse>(
            MethodType.Unary, service, method,
            Marshallers.Create<ListNodesRequest>(m => Google.Protobuf.MessageExtensions.ToByteArray(m), ListNodesRequest.Parser.ParseFrom),
            Marshallers.Create<ListNodesResponse>(m => Google.Protobuf.MessageExtensions.ToByteArray(m), ListNodesResponse.Parser.ParseFrom));

        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await fixture.Server.GrpcInvoker().AsyncUnaryCall(call, null, new CallOptions(cancellationToken: Ct), new ListNodesRequest()));

        Assert.Contains(error.StatusCode, new[] { StatusCode.Unauthenticated, StatusCode.Unimplemented });
        Assert.Same(before, fixture.Facades.LastRequest);
    }

    [Fact]
    public async Task Unknown_route_under_api_v1_is_401_too_so_routes_cannot_be_probed()
    {
        using var response = await fixture.Server.Rest().GetAsync("/api/v1/does-not-exist", Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Unauthorized", await response.Content.ReadAsStringAsync(Ct));
    }

    [Theory]
    [InlineData(ApiKeyForm.Legacy)]
    [InlineData(ApiKeyForm.Hskey)]
    public async Task Valid_key_of_either_form_is_accepted_on_rest_and_grpc(ApiKeyForm form)
    {
        var key = fixture.Server.AddKey(form);

        using var response = await fixture.Server.Rest(key).GetAsync("/api/v1/node", Ct);
        var nodes = await fixture.Server.Grpc(key).ListNodesAsync(new ListNodesRequest(), cancellationToken: Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, nodes.Nodes.Count);
    }

    [Fact]
    public async Task Key_stops_working_the_moment_it_expires()
    {
        var key = fixture.Server.AddKey(lifetime: TimeSpan.FromMinutes(5));
        var client = fixture.Server.Rest(key);
        using var before = await client.GetAsync("/api/v1/user", Ct);

        fixture.Server.Clock.Now += TimeSpan.FromMinutes(5);
        try
        {
            using var after = await client.GetAsync("/api/v1/user", Ct);

            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
            Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
        }
        finally
        {
            fixture.Server.Clock.Now -= TimeSpan.FromMinutes(5);
        }
    }

    [Fact]
    public async Task Key_stops_working_once_deleted_even_after_a_successful_check()
    {
        var key = fixture.Server.AddKey();
        var client = fixture.Server.Rest(key);
        using var before = await client.GetAsync("/api/v1/user", Ct);

        ApiKeyCodec.TryParse(key, out var parsed);
        await fixture.Server.Keys.DeleteAsync(parsed.Prefix, Ct);
        using var after = await client.GetAsync("/api/v1/user", Ct);

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
    }

    [Theory]
    [MemberData(nameof(AllRoutes))]
    public async Task Unix_socket_needs_no_key(string rpc)
    {
        var route = ManagementRouteCase.Named(rpc);

        try
        {
            await GrpcDynamic.CallAsync(fixture.Server.UnixSocketInvoker(), rpc, route.GrpcRequest, Ct);
        }
        catch (RpcException error)
        {
            // API-key methods answer from the (test) store; e.g. expiring an unknown prefix is NotFound.
            Assert.NotEqual(StatusCode.Unauthenticated, error.StatusCode);
            Assert.Contains(rpc, new[] { "ExpireApiKey", "DeleteApiKey" });
            return;
        }

        if (route.Golden.Length > 0)
        {
            Assert.Equal(route.GrpcRequest, fixture.Facades.LastRequest);
        }
    }

    [Fact]
    public async Task Openapi_document_needs_no_key()
    {
        using var response = await fixture.Server.Rest().GetAsync("/swagger/v1/openapiv2.json", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
    }
}
