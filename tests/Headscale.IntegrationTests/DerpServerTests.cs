using System.Net;
using Headscale.IntegrationTests.Support;

namespace Headscale.IntegrationTests;

/// <summary>The embedded DERP relay in the real server, switched on by <c>derp.server.enabled</c>.</summary>
public sealed class DerpServerTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Derp_endpoints_exist_only_when_the_embedded_server_is_enabled()
    {
        using var enabled = new TestServerConfig { Extra = $"derp:\n  server:\n    enabled: true\n    stun_listen_addr: 127.0.0.1:{TestPorts.GetFree()}\n" };
        await using (var server = await ServerProcess.StartAsync(enabled, Ct))
        {
            using var probe = await server.Http.GetAsync("/derp/probe", Ct);
            using var captive = await server.Http.GetAsync("/generate_204", Ct);
            Assert.Equal(HttpStatusCode.OK, probe.StatusCode);
            Assert.Equal(HttpStatusCode.NoContent, captive.StatusCode);
        }

        using var disabled = new TestServerConfig();
        await using (var server = await ServerProcess.StartAsync(disabled, Ct))
        {
            using var probe = await server.Http.GetAsync("/derp/probe", Ct);
            Assert.Equal(HttpStatusCode.NotFound, probe.StatusCode);
        }
    }
}
