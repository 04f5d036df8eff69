using Headscale.Api.Management.ApiKeys;
using Microsoft.AspNetCore.Http;

namespace Headscale.Api.Management;

/// <summary>
/// Marks a connection that arrived on the local unix socket. Like Headscale's socket for the
/// local CLI, such connections need no API key: file permissions on the socket are the guard.
/// </summary>
public interface ILocalManagementConnectionFeature;

internal sealed class LocalManagementConnectionFeature : ILocalManagementConnectionFeature
{
    public static readonly LocalManagementConnectionFeature Instance = new();
}

/// <summary>
/// API-key authentication for the whole management surface: REST under <c>/api/v1</c> and gRPC
/// under <c>/headscale.v1.HeadscaleService/</c>. A refused REST call gets 401 with the plain body
/// <c>Unauthorized</c>; a refused gRPC call gets status Unauthenticated with the same message.
/// Neither says whether the key was missing, malformed, unknown or expired.
/// </summary>
public sealed class ManagementAuthenticationMiddleware(RequestDelegate next, ApiKeyAuthenticator authenticator)
{
    public const string RestPathPrefix = "/api/v1";
    public const string GrpcPathPrefix = "/headscale.v1.HeadscaleService";

    public async Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path;
        var isRest = path.StartsWithSegments(RestPathPrefix, StringComparison.Ordinal);
        var isGrpc = !isRest && path.StartsWithSegments(GrpcPathPrefix, StringComparison.Ordinal);
        if ((!isRest && !isGrpc)
            || context.Features.Get<ILocalManagementConnectionFeature>() is not null
            || await authenticator.IsAuthorizedAsync(context.Request.Headers.Authorization, context.RequestAborted))
        {
            await next(context);
            return;
        }

        if (isGrpc)
        {
            // A trailers-only gRPC response: status in the headers, no message.
            context.Response.StatusCode = StatusCodes.Status200OK;
            context.Response.ContentType = "application/grpc";
            context.Response.Headers["grpc-status"] = ((int)Grpc.Core.StatusCode.Unauthenticated).ToString(System.Globalization.CultureInfo.InvariantCulture);
            context.Response.Headers["grpc-message"] = ManagementErrors.Unauthorized;
            return;
        }

        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(ManagementErrors.Unauthorized, context.RequestAborted);
    }
}
