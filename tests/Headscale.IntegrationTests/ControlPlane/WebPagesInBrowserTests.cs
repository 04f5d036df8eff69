using System.Net;
using Headscale.IntegrationTests.Support;

namespace Headscale.IntegrationTests.ControlPlane;

/// <summary>The server's web pages as a real browser renders them: the Swagger UI and the interactive login page.</summary>
public sealed class WebPagesInBrowserTests(ControlServer server) : IClassFixture<ControlServer>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Swagger_ui_renders_the_operations_of_the_openapi_document()
    {
        var dom = await HeadlessChromium.DumpDomAsync(new Uri(server.Url, "/swagger/index.html"), TimeSpan.FromSeconds(20), Ct);

        // Swagger UI builds these from /swagger/v1/openapiv2.json with its scripts; the static HTML has none of them.
        Assert.Contains("swagger-ui", dom);
        Assert.Contains("/api/v1/node/{nodeId}", dom);
        Assert.Contains("/api/v1/preauthkey", dom);
        Assert.Contains("authorize", dom, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task The_login_page_of_a_waiting_machine_shows_the_command_that_approves_it()
    {
        using var node = server.NewNode();
        var first = await node.RegisterAsync(authKey: null, Ct);
        var registrationId = first.AuthUrl[(first.AuthUrl.LastIndexOf('/') + 1)..];

        var dom = await HeadlessChromium.DumpDomAsync(new Uri(first.AuthUrl), TimeSpan.FromSeconds(2), Ct);
        var unknown = await HeadlessChromium.DumpDomAsync(new Uri(server.Url, "/register/" + new string('z', 24)), TimeSpan.FromSeconds(2), Ct);

        Assert.Contains(WebUtility.HtmlEncode($"headscale nodes register --key {registrationId} --user USERNAME"), dom);
        Assert.Contains("unknown or has expired", unknown);
    }
}
