using Headscale.Actors;
using Headscale.Actors.Auditing;
using Headscale.Api.Management.ApiKeys;

namespace Headscale.Api.Management.Backends;

/// <summary>Who is calling the management API, as the cause recorded with every change it makes.</summary>
public sealed class ManagementCaller(IHttpContextAccessor accessor)
{
    public Cause Current
    {
        get
        {
            var context = accessor.HttpContext;
            if (context is null)
            {
                return new Cause(CauseKind.Cli, "");
            }

            var via = MethodOf(context);
            if (context.Features.Get<ILocalManagementConnectionFeature>() is not null)
            {
                return new Cause(CauseKind.Cli, "") { Via = via };
            }

            return new Cause(CauseKind.Api, PrefixOf(context.Request.Headers.Authorization.ToString())) { Via = via };
        }
    }

    /// <summary>The management method the request is routed to (<c>CreateUser</c>), else its route template.</summary>
    public static string MethodOf(HttpContext context)
    {
        var endpoint = context.GetEndpoint();
        if (endpoint?.Metadata.GetMetadata<Grpc.AspNetCore.Server.GrpcMethodMetadata>() is { } grpc)
        {
            return grpc.Method.Name;
        }

        return (endpoint as RouteEndpoint)?.RoutePattern.RawText ?? Observability.RequestLoggingMiddleware.Unmatched;
    }

    /// <summary>The API key prefix of a <c>Bearer</c> header holding a well-formed key, else empty. Never the secret.</summary>
    public static string PrefixOf(string authorizationHeader)
    {
        const string bearer = "Bearer ";
        return authorizationHeader.StartsWith(bearer, StringComparison.OrdinalIgnoreCase)
            && ApiKeyCodec.TryParse(authorizationHeader.AsSpan(bearer.Length).Trim(), out var key)
            ? key.Prefix
            : "";
    }
}
