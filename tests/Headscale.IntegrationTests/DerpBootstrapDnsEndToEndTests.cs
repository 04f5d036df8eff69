using System.Net;
using System.Text.Json;
using Headscale.IntegrationTests.Support;

namespace Headscale.IntegrationTests;

/// <summary><c>/bootstrap-dns</c> of the real server: the host names of the DERP map it hands to clients.</summary>
public sealed class DerpBootstrapDnsEndToEndTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Bootstrap_dns_resolves_the_host_names_of_the_configured_derp_map()
    {
        using var config = new TestServerConfig();
        File.WriteAllText(Path.Combine(config.Directory, "derpmap.yaml"), """
            regions:
              900:
                regionid: 900
                regioncode: local
                regionname: Local
                nodes:
                  - name: 900a
                    regionid: 900
                    hostname: localhost
            """);
        config.Extra = $"""
            derp:
              server:
                enabled: true
                stun_listen_addr: 127.0.0.1:{TestPorts.GetFree()}
                private_key_path: derp_server_private.key
              paths:
                - derpmap.yaml

            """;
        await using var server = await ServerProcess.StartAsync(config, Ct);

        using var response = await server.Http.GetAsync("/bootstrap-dns?q=localhost", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        var addresses = json.RootElement.GetProperty("localhost").EnumerateArray().Select(a => IPAddress.Parse(a.GetString()!)).ToArray();
        Assert.Contains(addresses, IPAddress.IsLoopback);
        // The embedded region's node is 127.0.0.1 (server_url): an address needs no lookup and is not listed.
        Assert.Equal(["localhost"], json.RootElement.EnumerateObject().Select(p => p.Name));
    }
}
