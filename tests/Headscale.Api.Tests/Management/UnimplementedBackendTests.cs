using System.Net;
using System.Text.Json.Nodes;
using Grpc.Core;
using Xunit;

namespace Headscale.Api.Tests.Management;

/// <summary>
/// Without the domain's facades the server answers Unimplemented (REST 501) for every method that
/// needs them: no made-up data. API keys still work, since they need only the key store.
/// </summary>
public sealed class UnimplementedBackendTests : IAsyncLifetime
{
    private ManagementTestServer? _server;

    private ManagementTestServer Server => _server!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public static TheoryData<string> DomainRoutes => new(ManagementRouteCase.All.Select(c => c.Rpc));

    public async ValueTask InitializeAsync() => _server = await ManagementTestServer.StartAsync(facades: null, Ct);

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    [Theory]
    [MemberData(nameof(DomainRoutes))]
    public async Task Rest_route_is_501_with_grpc_status_body(string rpc)
    {
        var route = ManagementRouteCase.Named(rpc);
        using var request = new HttpRequestMessage(route.Method, route.Path);
        if (route.Body is not null)
        {
            request.Content = new StringContent(route.Body, System.Text.Encoding.UTF8, "application/json");
        }

        using var response = await Server.Rest(Server.AddKey()).SendAsync(request, Ct);

        Assert.Equal(HttpStatusCode.NotImplemented, response.StatusCode);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!;
        Assert.Equal(12, (int)body["code"]!);
        Assert.Equal($"{rpc} is not implemented by this server yet", (string)body["message"]!);
    }

    [Theory]
    [MemberData(nameof(DomainRoutes))]
    public async Task Grpc_method_is_unimplemented(string rpc)
    {
        var error = await Assert.ThrowsAsync<RpcException>(() =>
            GrpcDynamic.CallAsync(Server.UnixSocketInvoker(), rpc, ManagementRouteCase.Named(rpc).GrpcRequest, Ct));

        Assert.Equal(StatusCode.Unimplemented, error.StatusCode);
    }

    [Fact]
    public async Task Api_keys_still_work()
    {
        using var response = await Server.Rest(Server.AddKey()).GetAsync("/api/v1/apikey", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }
}
