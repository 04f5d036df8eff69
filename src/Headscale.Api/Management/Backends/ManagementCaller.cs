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
            if (context is null || context.Features.Get<ILocalManagementConnectionFeature>() is not null)
            {
                return new Cause(CauseKind.Cli, "");
            }

            var header = context.Request.Headers.Authorization.ToString();
            const string bearer = "Bearer ";
            return header.StartsWith(bearer, StringComparison.OrdinalIgnoreCase)
                && ApiKeyCodec.TryParse(header.AsSpan(bearer.Length).Trim(), out var key)
                ? new Cause(CauseKind.Api, key.Prefix)
                : new Cause(CauseKind.Api, "");
        }
    }
}
