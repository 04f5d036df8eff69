using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using Headscale.Actors.Persistence;
using Headscale.Api.Hosting;

namespace Headscale.Api.Endpoints;

/// <summary>The plain HTTP endpoints of the main listener: health, version, robots.txt and the Noise key.</summary>
public static class ServerInfoEndpoints
{
    /// <summary>How long one health probe may take before the database counts as down.</summary>
    public static readonly TimeSpan HealthProbeTimeout = TimeSpan.FromSeconds(3);

    /// <summary>Lowest capability version that speaks Noise (<c>tailcfg.NoiseCapabilityVersion</c>).</summary>
    public const int NoiseCapabilityVersion = 39;

    private static readonly string ZeroMachineKey = "mkey:" + new string('0', 64);

    public static IEndpointRouteBuilder MapServerInfoEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet("/health", Health);
        endpoints.MapGet("/version", Version);
        endpoints.MapGet("/robots.txt", () => Results.Text("User-agent: *\nDisallow: /\n", "text/plain"));
        endpoints.MapGet("/key", Key);
        return endpoints;
    }

    private static async Task<IResult> Health(JournalDatabase database, CancellationToken requestAborted)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(requestAborted);
        timeout.CancelAfter(HealthProbeTimeout);
        var up = await database.PingAsync(timeout.Token);
        return Results.Text(
            up ? """{"status":"pass"}""" : """{"status":"fail"}""",
            "application/health+json",
            statusCode: up ? StatusCodes.Status200OK : StatusCodes.Status500InternalServerError);
    }

    private static IResult Version()
    {
        var body = new JsonObject
        {
            ["version"] = BuildInfo.CompatibleHeadscaleVersion,
            ["commit"] = BuildInfo.Commit,
            ["buildTime"] = BuildInfo.BuildTime,
            ["dotnet"] = new JsonObject
            {
                ["version"] = Environment.Version.ToString(),
                ["os"] = RuntimeInformation.OSDescription,
                ["arch"] = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant(),
            },
            ["dirty"] = false,
            ["implementation"] = BuildInfo.ProductName,
            ["implementationVersion"] = BuildInfo.ProductVersion,
        };
        return Results.Text(body.ToJsonString(), "application/json");
    }

    private static IResult Key(HttpRequest request, NoiseKey noiseKey)
    {
        var v = request.Query["v"];
        if (v.Count != 1 || !int.TryParse(v[0], NumberStyles.None, CultureInfo.InvariantCulture, out var version))
        {
            return Results.Text("missing or invalid capability version: expected ?v=<integer>", statusCode: StatusCodes.Status400BadRequest);
        }

        if (version < NoiseCapabilityVersion)
        {
            return Results.Text($"capability version {version} is too old: Noise needs at least {NoiseCapabilityVersion}", statusCode: StatusCodes.Status400BadRequest);
        }

        var body = new JsonObject
        {
            ["legacyPublicKey"] = ZeroMachineKey,
            ["publicKey"] = noiseKey.PublicKeyText,
        };
        return Results.Text(body.ToJsonString(), "application/json");
    }
}
