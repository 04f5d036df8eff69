using Grpc.AspNetCore.Server;
using Headscale.Api.Management.ApiKeys;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

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
public sealed partial class ManagementAuthenticationMiddleware(
    RequestDelegate next,
    ApiKeyAuthenticator authenticator,
    ILogger<ManagementAuthenticationMiddleware> logger,
    Headscale.Actors.Auditing.IAuditRecorder? auditRecorder = null)
{
    public const string RestPathPrefix = "/api/v1";
    public const string GrpcPathPrefix = "/headscale.v1.HeadscaleService";

    // Not async on the way through: a long-lived request (a map stream) would keep this frame for its whole life.
    public Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path;
        // Routing matches paths case-insensitively, so the prefix checks must too; the endpoint
        // check catches any other spelling that still routes to the service.
        var isGrpc = path.StartsWithSegments(GrpcPathPrefix, StringComparison.OrdinalIgnoreCase)
            || (context.Request.ContentType?.StartsWith("application/grpc", StringComparison.OrdinalIgnoreCase) == true && IsServiceEndpoint(context));
        var isRest = !isGrpc && (path.StartsWithSegments(RestPathPrefix, StringComparison.OrdinalIgnoreCase) || IsServiceEndpoint(context));
        if ((!isRest && !isGrpc) || context.Features.Get<ILocalManagementConnectionFeature>() is not null)
        {
            return next(context);
        }

        return AuthenticateAsync(context, path, isGrpc);
    }

    private async Task AuthenticateAsync(HttpContext context, PathString path, bool isGrpc)
    {
        var check = await authenticator.CheckAsync(context.Request.Headers.Authorization, context.RequestAborted);
        if (check == ApiKeyCheck.Valid)
        {
            await next(context);
            return;
        }

        LogRefused(logger, context.Request.Method, path, context.Connection.RemoteIpAddress, check);
        var reason = ReasonLabel(check);
        Observability.ManagementMetrics.AuthenticationFailures.WithLabels(reason).Inc();
        auditRecorder?.ApiAuthenticationFailed(
            Backends.ManagementCaller.PrefixOf(context.Request.Headers.Authorization.ToString()),
            reason,
            context.Connection.RemoteIpAddress?.ToString() ?? "unknown",
            isGrpc ? Observability.GrpcMetricsInterceptor.MethodName(path.Value ?? "") : Backends.ManagementCaller.MethodOf(context));

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

    /// <summary>A closed set of label values: missing, malformed, unknown-prefix, expired, wrong-secret.</summary>
    public static string ReasonLabel(ApiKeyCheck check) => check switch
    {
        ApiKeyCheck.Missing => "missing",
        ApiKeyCheck.Malformed => "malformed",
        ApiKeyCheck.UnknownPrefix => "unknown-prefix",
        ApiKeyCheck.Expired => "expired",
        ApiKeyCheck.WrongSecret => "wrong-secret",
        _ => "other",
    };

    private static bool IsServiceEndpoint(HttpContext context) =>
        context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>()?.ServiceType == typeof(HeadscaleGrpcService);

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information,
        Message = "Refused management call {Method} {Path} from {RemoteAddress}: API key {Reason}")]
    private static partial void LogRefused(ILogger logger, string method, PathString path, System.Net.IPAddress? remoteAddress, ApiKeyCheck reason);
}
