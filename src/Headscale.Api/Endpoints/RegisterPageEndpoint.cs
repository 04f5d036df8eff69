using System.Net;
using Headscale.Actors.Nodes;

namespace Headscale.Api.Endpoints;

/// <summary>
/// <c>GET /register/{id}</c>: the page an interactive login opens. Without OIDC it only tells the
/// admin which command approves the machine, as Headscale's page does.
/// </summary>
public static class RegisterPageEndpoint
{
    public static IEndpointRouteBuilder MapRegisterPage(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/register/{id}", RenderAsync);
        return endpoints;
    }

    private static async Task<IResult> RenderAsync(string id, INodeService nodes, CancellationToken requestAborted)
    {
        if (id.Length is 0 or > 64 || !id.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
        {
            return Results.Text("malformed registration id", "text/plain", statusCode: StatusCodes.Status400BadRequest);
        }

        if (await nodes.GetPendingAsync(id, requestAborted) is null)
        {
            return Results.Text(Page("Registration not found",
                "<p>This registration is unknown or has expired. Run <code>tailscale up</code> again to get a new link.</p>"),
                "text/html; charset=utf-8", statusCode: StatusCodes.Status404NotFound);
        }

        var command = WebUtility.HtmlEncode($"headscale nodes register --key {id} --user USERNAME");
        return Results.Text(Page("Machine registration",
            $"<p>Run the command below on the headscale server to add this machine to your network:</p>\n<pre><code>{command}</code></pre>"),
            "text/html; charset=utf-8");
    }

    private static string Page(string title, string body) => $$"""
        <!DOCTYPE html>
        <html lang="en">
        <head>
        <meta charset="utf-8">
        <meta name="viewport" content="width=device-width, initial-scale=1">
        <title>headscale - {{title}}</title>
        <style>body { font-family: sans-serif; max-width: 40em; margin: 3em auto; } pre { background: #eee; padding: 1em; overflow-x: auto; }</style>
        </head>
        <body>
        <h1>headscale</h1>
        <h2>{{title}}</h2>
        {{body}}
        </body>
        </html>
        """;
}
