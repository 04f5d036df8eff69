using System.Net;
using System.Net.WebSockets;
using Headscale.Derp.Client;
using Headscale.Derp.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;

namespace Headscale.Derp.Hosting;

/// <summary>HTTP side of the embedded DERP server: the /derp upgrade, WebSocket, probes and captive-portal check.</summary>
internal static class DerpHttpHandler
{
    private const string WebSocketSubProtocol = "derp";

    /// <summary><c>/derp</c>: <c>Upgrade: DERP</c> (case-insensitive) or WebSocket with the <c>derp</c> subprotocol; else 426.</summary>
    public static async Task HandleDerpAsync(HttpContext context)
    {
        var server = context.RequestServices.GetRequiredService<DerpServer>();
        var upgrade = context.Request.Headers.Upgrade.ToString();
        var remote = context.Connection.RemoteIpAddress is { } ip ? new IPEndPoint(ip, context.Connection.RemotePort) : null;

        // Only a WebSocket request that names "derp" in its subprotocols takes the WebSocket path; very old clients sent
        // "Upgrade: websocket" without it and expect the plain DERP upgrade (derp-protocol.md §1.3).
        var requestedProtocols = context.Request.Headers.SecWebSocketProtocol.ToString();
        if (context.WebSockets.IsWebSocketRequest && requestedProtocols.Contains(WebSocketSubProtocol, StringComparison.Ordinal))
        {
            await HandleWebSocketAsync(context, server, remote, requestedProtocols);
            return;
        }

        var upgradeFeature = context.Features.Get<IHttpUpgradeFeature>();
        if (!(upgrade.Equals("derp", StringComparison.OrdinalIgnoreCase) || upgrade.Equals("websocket", StringComparison.OrdinalIgnoreCase))
            || upgradeFeature is not { IsUpgradableRequest: true })
        {
            context.Response.StatusCode = StatusCodes.Status426UpgradeRequired;
            await context.Response.WriteAsync("DERP requires connection upgrade");
            return;
        }

        context.Response.Headers.Upgrade = "DERP";
        context.Response.Headers["Derp-Version"] = "2";
        context.Response.Headers["Derp-Public-Key"] = server.PublicKey.ToHex();
        await using var stream = await upgradeFeature.UpgradeAsync();
        await server.HandleConnectionAsync(new StreamDuplexPipe(stream), remote, context.Abort, context.RequestAborted);
    }

    private static async Task HandleWebSocketAsync(HttpContext context, DerpServer server, IPEndPoint? remote, string requestedProtocols)
    {
        var offersDerp = requestedProtocols.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Contains(WebSocketSubProtocol, StringComparer.Ordinal);
        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            SubProtocol = offersDerp ? WebSocketSubProtocol : null,
            DangerousEnableCompression = false,
        });
        if (!offersDerp)
        {
            await socket.CloseAsync(WebSocketCloseStatus.PolicyViolation, "client must speak the derp subprotocol", context.RequestAborted);
            return;
        }
        await using var stream = WebSocketStream.Create(socket, WebSocketMessageType.Binary, ownsWebSocket: false);
        await server.HandleConnectionAsync(new StreamDuplexPipe(stream), remote, context.Abort, context.RequestAborted);
    }

    /// <summary><c>/derp/probe</c> and <c>/derp/latency-check</c>: GET/HEAD → 200 with CORS; else 405.</summary>
    public static Task HandleProbeAsync(HttpContext context)
    {
        if (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method))
        {
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.Headers.AccessControlAllowOrigin = "*";
            return Task.CompletedTask;
        }
        context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
        return context.Response.WriteAsync("bogus probe method");
    }

    /// <summary><c>/generate_204</c>: captive-portal check, echoing a well-formed <c>X-Tailscale-Challenge</c>.</summary>
    public static Task HandleGenerate204(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status204NoContent;
        context.Response.Headers.CacheControl = "no-cache, no-store, must-revalidate, no-transform, max-age=0";
        var challenge = context.Request.Headers["X-Tailscale-Challenge"].ToString();
        if (challenge.Length > 0 && IsValidChallenge(challenge))
            context.Response.Headers["X-Tailscale-Response"] = "response " + challenge;
        return Task.CompletedTask;
    }

    internal static bool IsValidChallenge(ReadOnlySpan<char> challenge)
    {
        if (challenge.Length > 64) return false;
        foreach (var c in challenge)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or ':' or '-'))
                return false;
        return true;
    }
}
