using Headscale.Api.Management;
using Headscale.Api.Management.ApiKeys;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;

namespace Headscale.Api.Tests.Management;

/// <summary>
/// The management middleware hands requests it does not handle straight on: the task it returns is the next
/// middleware's own, so a long-lived request (a map stream) does not keep an async frame of each of them alive.
/// </summary>
public sealed class PassThroughMiddlewareTests
{
    private readonly TaskCompletionSource _endOfStream = new();

    [Fact]
    public void Authentication_passes_a_control_request_on_without_a_frame_of_its_own()
    {
        var middleware = new ManagementAuthenticationMiddleware(
            _ => _endOfStream.Task,
            new ApiKeyAuthenticator(new InMemoryApiKeyStore(), TimeProvider.System),
            NullLogger<ManagementAuthenticationMiddleware>.Instance);

        Assert.Same(_endOfStream.Task, middleware.InvokeAsync(MapRequest()));
    }

    [Fact]
    public void Grpc_gateway_json_passes_a_request_without_a_transcoded_endpoint_on_without_a_frame_of_its_own()
    {
        var middleware = new GrpcGatewayJsonMiddleware(_ => _endOfStream.Task);

        Assert.Same(_endOfStream.Task, middleware.InvokeAsync(MapRequest()));
    }

    private static DefaultHttpContext MapRequest()
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.Path = "/machine/map";
        return context;
    }
}
