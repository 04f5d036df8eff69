using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Headscale.Actors.Registration;

namespace Headscale.Api.ControlPlane;

/// <summary>
/// <c>POST /machine/register</c>, reached only inside the Noise channel (spec §g). Protocol
/// outcomes, including refused keys and bad field values, are HTTP 200 with <c>Error</c> set, which
/// Tailscale clients show to the user; a body that is not a JSON RegisterRequest at all is 400, a
/// body over 1 MiB 413, and a request without a Noise identity 401.
/// </summary>
public static class MachineRegisterEndpoint
{
    /// <summary>Largest accepted request body; a real RegisterRequest with full Hostinfo is a few KiB.</summary>
    public const int MaxBodyBytes = 1024 * 1024;

    public const string Path = "/machine/register";

    public static IEndpointRouteBuilder MapMachineRegister(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapPost(Path, HandleAsync);
        return endpoints;
    }

    private static async Task HandleAsync(HttpContext context, IRegistrationService registration, TimeProvider clock)
    {
        var ct = context.RequestAborted;
        if (context.Features.Get<IControlPeerIdentity>() is not { } peer)
        {
            await WritePlainAsync(context, StatusCodes.Status401Unauthorized, "register requests are only accepted inside the Noise channel");
            return;
        }

        if (context.Request.ContentLength > MaxBodyBytes)
        {
            await WritePlainAsync(context, StatusCodes.Status413PayloadTooLarge, $"request body is larger than {MaxBodyBytes} bytes");
            return;
        }

        var body = await ReadBodyAsync(context.Request.BodyReader, ct);
        if (body is null)
        {
            await WritePlainAsync(context, StatusCodes.Status413PayloadTooLarge, $"request body is larger than {MaxBodyBytes} bytes");
            return;
        }

        RegisterRequest? wire;
        try
        {
            wire = JsonSerializer.Deserialize(body, ControlPlaneJsonContext.Default.RegisterRequest);
        }
        catch (JsonException e)
        {
            await WritePlainAsync(context, StatusCodes.Status400BadRequest, $"request body is not a valid RegisterRequest: {e.Message}");
            return;
        }

        if (wire is null)
        {
            await WritePlainAsync(context, StatusCodes.Status400BadRequest, "request body is not a valid RegisterRequest: null");
            return;
        }

        if (!RegisterRequestReader.TryRead(wire, out var request, out var error))
        {
            await WriteResponseAsync(context, StatusCodes.Status200OK, new RegisterResponse { Error = error });
            return;
        }

        var outcome = await registration.RegisterAsync(peer.MachinePublicKey, request, clock.GetUtcNow(), ct);
        await WriteResponseAsync(context, outcome.StatusCode, ToWire(outcome));
    }

    internal static RegisterResponse ToWire(RegisterOutcome outcome)
    {
        var response = new RegisterResponse
        {
            Error = outcome.Error,
            AuthUrl = outcome.AuthUrl,
            MachineAuthorized = outcome.MachineAuthorized,
            NodeKeyExpired = outcome.NodeKeyExpired,
        };
        if (outcome.Login is { } login)
        {
            response.User = new RegisterUser { Id = login.Id, DisplayName = login.DisplayName };
            response.Login = new RegisterLogin { Id = login.Id, LoginName = login.LoginName, DisplayName = login.DisplayName };
        }

        return response;
    }

    /// <summary>Reads the whole body, or returns null as soon as it passes <see cref="MaxBodyBytes"/>.</summary>
    private static async Task<byte[]?> ReadBodyAsync(PipeReader reader, CancellationToken ct)
    {
        while (true)
        {
            var result = await reader.ReadAsync(ct);
            if (result.Buffer.Length > MaxBodyBytes)
            {
                reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
                return null;
            }

            if (result.IsCompleted)
            {
                // Registration is rare per client; one copy of a small body keeps the parsing simple.
                var copy = result.Buffer.ToArray();
                reader.AdvanceTo(result.Buffer.End);
                return copy;
            }

            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    private static async Task WriteResponseAsync(HttpContext context, int status, RegisterResponse response)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await JsonSerializer.SerializeAsync(context.Response.Body, response, ControlPlaneJsonContext.Default.RegisterResponse, context.RequestAborted);
    }

    private static Task WritePlainAsync(HttpContext context, int status, string message)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "text/plain; charset=utf-8";
        return context.Response.WriteAsync(message + "\n", context.RequestAborted);
    }
}
