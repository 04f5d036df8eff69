using Headscale.Api.Management.OpenApi;
using Headscale.Management.V1;
using Microsoft.AspNetCore.Http;

namespace Headscale.Api.Management;

/// <summary>
/// Answers a request under <c>/api/v1</c> that no route took, as grpc-gateway's default routing
/// error handler does: a path that exists for another method is 501 "Method Not Allowed"
/// (gRPC Unimplemented), anything else is 404 "Not Found"; both with a google.rpc.Status body.
/// </summary>
internal static class UnmatchedRestRoute
{
    private static readonly (string Verb, string[] Segments)[] Routes = OpenApiV2DocumentGenerator
        .HttpOperations(HeadscaleService.Descriptor)
        .Select(op => (op.Verb, op.Path.Split('/')))
        .ToArray();

    public static IResult Answer(HttpRequest request)
    {
        var segments = request.Path.Value?.Split('/') ?? [];
        var otherMethod = Routes.Any(route =>
            !string.Equals(route.Verb, request.Method, StringComparison.OrdinalIgnoreCase) && Matches(route.Segments, segments));
        return otherMethod
            ? Results.Json(new RestErrorBody(12, "Method Not Allowed", []), ManagementJsonContext.Default.RestErrorBody,
                statusCode: StatusCodes.Status501NotImplemented)
            : Results.Json(new RestErrorBody(5, "Not Found", []), ManagementJsonContext.Default.RestErrorBody,
                statusCode: StatusCodes.Status404NotFound);
    }

    private static bool Matches(string[] template, string[] path)
    {
        if (template.Length != path.Length)
        {
            return false;
        }

        for (var i = 0; i < template.Length; i++)
        {
            var isVariable = template[i].StartsWith('{');
            if (isVariable ? path[i].Length == 0 : !string.Equals(template[i], path[i], StringComparison.OrdinalIgnoreCase))
            {
                return false;
            }
        }

        return true;
    }
}
