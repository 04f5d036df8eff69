using System.Net;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Headscale.IntegrationTests.Deployment;

/// <summary>
/// A stand-in upstream for what the real server cannot show: on every path it answers with the request line and the
/// proxy headers nginx sent, it serves a /metrics page on its proxied port (which nginx must still hide), and it tells
/// the headscale and Headplane upstreams apart. Streams (/ts2021, /derp) are tested against the real server.
/// </summary>
public sealed class HeaderEchoUpstream : IAsyncDisposable
{
    public const string MetricsBody = "upstream metrics page";

    private readonly WebApplication _app;

    private HeaderEchoUpstream(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    /// <param name="name">Echoed first on every described request, so tests can tell upstreams apart.</param>
    public static async Task<HeaderEchoUpstream> StartAsync(CancellationToken cancellationToken, string name = "headscale")
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.MapGet("/metrics", () => MetricsBody);
        app.MapGet("/health", () => Results.Text("""{"status":"pass"}""", "application/json"));
        app.Map("/{**path}", (HttpContext context) => Results.Text($"upstream: {name}\n" + DescribeRequest(context.Request)));
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new HeaderEchoUpstream(app, new Uri(address).Port);
    }

    public async ValueTask DisposeAsync()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await _app.StopAsync(timeout.Token);
        await _app.DisposeAsync();
    }

    /// <summary>The request line and proxy headers as "name: value" lines, for the header tests.</summary>
    private static string DescribeRequest(HttpRequest request)
    {
        var text = new StringBuilder().Append(request.Method).Append(' ').Append(request.Path).Append(request.QueryString).Append('\n');
        foreach (var name in new[] { "Host", "X-Real-IP", "X-Forwarded-For", "X-Forwarded-Proto", "X-Forwarded-Host", "Connection", "Upgrade" })
        {
            text.Append(name).Append(": ").Append(request.Headers[name].ToString()).Append('\n');
        }

        return text.ToString();
    }
}
