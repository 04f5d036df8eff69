using System.Net;
using System.Net.WebSockets;
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
/// A stand-in upstream for the routes the server does not serve yet, so the proxy's behaviour can
/// be tested on its own: an HTTP/1.1 Upgrade echo on /ts2021 (as the Noise transport upgrades), a
/// WebSocket echo on /derp, a /metrics page (which nginx must hide) and, on every other path, the
/// proxy headers it received. When the real /ts2021 and /derp land, the tests that use this class
/// take a <see cref="Support.ServerProcess"/> port instead (see docs/decisions/0600).
/// </summary>
public sealed class UpgradeEchoUpstream : IAsyncDisposable
{
    public const string MetricsBody = "upstream metrics page";

    private readonly WebApplication _app;

    private UpgradeEchoUpstream(WebApplication app, int port)
    {
        _app = app;
        Port = port;
    }

    public int Port { get; }

    /// <param name="name">Echoed first on every described request, so tests can tell upstreams apart.</param>
    public static async Task<UpgradeEchoUpstream> StartAsync(CancellationToken cancellationToken, string name = "headscale")
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseKestrel(options => options.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        app.UseWebSockets();
        app.Map("/ts2021", EchoUpgradedStreamAsync);
        app.Map("/derp", EchoWebSocketAsync);
        app.MapGet("/metrics", () => MetricsBody);
        app.MapGet("/health", () => Results.Text("""{"status":"pass"}""", "application/json"));
        app.Map("/{**path}", (HttpContext context) => Results.Text($"upstream: {name}\n" + DescribeRequest(context.Request)));
        await app.StartAsync(cancellationToken);
        var address = app.Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>()
            .Features.GetRequiredFeature<IServerAddressesFeature>().Addresses.Single();
        return new UpgradeEchoUpstream(app, new Uri(address).Port);
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

    private static async Task EchoUpgradedStreamAsync(HttpContext context)
    {
        var upgrade = context.Features.Get<IHttpUpgradeFeature>();
        if (upgrade is null || !upgrade.IsUpgradableRequest)
        {
            context.Response.StatusCode = StatusCodes.Status426UpgradeRequired;
            return;
        }

        context.Response.Headers.Upgrade = context.Request.Headers.Upgrade;
        await using var stream = await upgrade.UpgradeAsync();
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await stream.ReadAsync(buffer, context.RequestAborted)) > 0)
        {
            await stream.WriteAsync(buffer.AsMemory(0, read), context.RequestAborted);
        }
    }

    private static async Task EchoWebSocketAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync();
        var buffer = new byte[16 * 1024];
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, context.RequestAborted);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, null, context.RequestAborted);
                return;
            }

            await socket.SendAsync(buffer.AsMemory(0, result.Count), result.MessageType, result.EndOfMessage, context.RequestAborted);
        }
    }
}
