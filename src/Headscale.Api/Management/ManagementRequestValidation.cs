using System.Net;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Headscale.Management.V1;

namespace Headscale.Api.Management;

/// <summary>
/// Checks the shape of management requests before any facade sees them: required ids and
/// names, tag syntax, route prefixes, the backfill confirmation. Whether a user, node or key
/// exists is the domain's question, not this one's. Runs for gRPC and transcoded REST alike.
/// </summary>
public static class ManagementRequestValidation
{
    /// <summary>The first problem with <paramref name="request"/>, or null if its shape is fine.</summary>
    public static ManagementError? Check(IMessage request) => request switch
    {
        CreateUserRequest r => Required(r.Name, "name"),
        RenameUserRequest r => Id(r.OldId, "old_id") ?? Required(r.NewName, "new_name"),
        DeleteUserRequest r => Id(r.Id, "id"),
        ExpirePreAuthKeyRequest r => Required(r.Key, "key"),
        CreatePreAuthKeyRequest r => Tags(r.AclTags, "acl_tags"),
        DebugCreateNodeRequest r => Required(r.User, "user") ?? Required(r.Key, "key") ?? Required(r.Name, "name") ?? Routes(r.Routes),
        GetNodeRequest r => Id(r.NodeId, "node_id"),
        SetTagsRequest r => Id(r.NodeId, "node_id") ?? Tags(r.Tags, "tags"),
        SetApprovedRoutesRequest r => Id(r.NodeId, "node_id") ?? Routes(r.Routes),
        RegisterNodeRequest r => Required(r.User, "user") ?? Required(r.Key, "key"),
        DeleteNodeRequest r => Id(r.NodeId, "node_id"),
        ExpireNodeRequest r => Id(r.NodeId, "node_id"),
        RenameNodeRequest r => Id(r.NodeId, "node_id") ?? Required(r.NewName, "new_name"),
        MoveNodeRequest r => Id(r.NodeId, "node_id") ?? Id(r.User, "user"),
        BackfillNodeIPsRequest r => r.Confirmed ? null : ManagementError.InvalidArgument("confirmed must be true to backfill node IPs"),
        _ => null,
    };

    private static ManagementError? Id(ulong value, string field) =>
        value == 0 ? ManagementError.InvalidArgument($"{field} is required") : null;

    private static ManagementError? Required(string value, string field) =>
        string.IsNullOrWhiteSpace(value) ? ManagementError.InvalidArgument($"{field} is required") : null;

    /// <summary>Headscale's tag rules: <c>tag:</c> prefix, a name after it, lower case, no white space.</summary>
    private static ManagementError? Tags(IEnumerable<string> tags, string field)
    {
        foreach (var tag in tags)
        {
            if (!tag.StartsWith("tag:", StringComparison.Ordinal) || tag.Length == "tag:".Length)
            {
                return ManagementError.InvalidArgument($"{field}: '{tag}' must be 'tag:' followed by a name");
            }

            if (tag.Any(char.IsWhiteSpace))
            {
                return ManagementError.InvalidArgument($"{field}: '{tag}' must not contain white space");
            }

            if (tag.Any(char.IsUpper))
            {
                return ManagementError.InvalidArgument($"{field}: '{tag}' must be lower case");
            }
        }

        return null;
    }

    /// <summary>Each route must be an IP prefix (address/length); host bits may be set, as Go's ParsePrefix allows.</summary>
    private static ManagementError? Routes(IEnumerable<string> routes)
    {
        foreach (var route in routes)
        {
            var slash = route.IndexOf('/');
            if (slash <= 0
                || !IPAddress.TryParse(route.AsSpan(0, slash), out var address)
                || route.AsSpan(0, slash).Contains('%')
                || (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork && route.AsSpan(0, slash).Count('.') != 3)
                || !int.TryParse(route.AsSpan(slash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var length)
                || length > (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128))
            {
                return ManagementError.InvalidArgument($"routes: '{route}' is not an IP prefix such as 10.0.0.0/24 or fd00::/64");
            }
        }

        return null;
    }
}

/// <summary>Applies <see cref="ManagementRequestValidation"/> to every unary call of the service.</summary>
public sealed class ManagementRequestValidationInterceptor : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        if (request is IMessage message && ManagementRequestValidation.Check(message) is { } error)
        {
            throw new RpcException(new Status(ManagementStatusMapping.ToStatusCode(error.Code), error.Message));
        }

        return continuation(request, context);
    }
}
