using System.Text.Json;
using System.Text.Json.Nodes;
using Google.Protobuf.Reflection;
using Microsoft.AspNetCore.Grpc.JsonTranscoding;
using Microsoft.AspNetCore.Http;

namespace Headscale.Api.Management;

/// <summary>
/// Closes the two gaps between ASP.NET JSON transcoding and grpc-gateway (Headscale's REST),
/// for transcoded endpoints only. See docs/decisions/0400-management-api.md.
/// <list type="bullet">
/// <item>grpc-gateway reads every request body as JSON whatever its Content-Type (curl -d sends
/// form encoding); transcoding answers 415, so a non-JSON Content-Type is replaced.</item>
/// <item>grpc-gateway emits unpopulated message fields as <c>null</c>; transcoding omits them even
/// with <c>IgnoreDefaultValues = false</c> (it already emits "", false, 0 and []). Headplane reads
/// <c>node.user === null</c> as "tag-owned" and <c>expiry === null</c> as "never expires", so
/// successful responses are rewritten: every absent singular message field (recursively) becomes
/// null, and properties follow field-number order as grpc-gateway writes them.</item>
/// </list>
/// </summary>
public sealed class GrpcGatewayJsonMiddleware(RequestDelegate next)
{
    // Raw UTF-8 and no HTML escaping, as Go's protojson writes; the body is never embedded in HTML.
    private static readonly JsonWriterOptions CompactWriter = new()
    {
        Indented = false,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    // Not async on the way through: a long-lived request (a map stream) would keep this frame for its whole life.
    public Task InvokeAsync(HttpContext context)
    {
        var transcoded = context.GetEndpoint()?.Metadata.GetMetadata<GrpcJsonTranscodingMetadata>();
        return transcoded is null ? next(context) : TranscodeAsync(context, transcoded);
    }

    private async Task TranscodeAsync(HttpContext context, GrpcJsonTranscodingMetadata transcoded)
    {
        if (transcoded.HttpRule.Body.Length > 0
            && context.Request.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) != true)
        {
            context.Request.ContentType = "application/json";
        }

        var original = context.Response.Body;
        using var buffer = new MemoryStream();
        context.Response.Body = buffer;
        try
        {
            await next(context);
        }
        finally
        {
            context.Response.Body = original;
        }

        buffer.Position = 0;
        if (context.Response.StatusCode != StatusCodes.Status200OK
            || buffer.Length == 0
            || context.Response.ContentType?.StartsWith("application/json", StringComparison.OrdinalIgnoreCase) != true
            || JsonNode.Parse(buffer) is not JsonObject response)
        {
            buffer.Position = 0;
            await buffer.CopyToAsync(original, context.RequestAborted);
            return;
        }

        var completed = Complete(response, transcoded.MethodDescriptor.OutputType);
        using var rewritten = new MemoryStream();
        await using (var writer = new Utf8JsonWriter(rewritten, CompactWriter))
        {
            completed.WriteTo(writer);
        }

        context.Response.ContentLength = rewritten.Length;
        rewritten.Position = 0;
        await rewritten.CopyToAsync(original, context.RequestAborted);
    }

    /// <summary>Returns the object with every field of <paramref name="message"/> present, in field order.</summary>
    internal static JsonObject Complete(JsonObject json, MessageDescriptor message)
    {
        var ordered = new JsonObject();
        foreach (var field in message.Fields.InFieldNumberOrder())
        {
            json.Remove(field.JsonName, out var value);
            ordered[field.JsonName] = value is null ? null : CompleteValue(value, field);
        }

        // Names the descriptor does not know (none today) are kept rather than dropped.
        foreach (var (name, value) in json.ToList())
        {
            json.Remove(name);
            ordered[name] = value;
        }

        return ordered;
    }

    private static JsonNode CompleteValue(JsonNode value, FieldDescriptor field)
    {
        if (field.FieldType != FieldType.Message || field.IsMap || IsWellKnown(field.MessageType))
        {
            return value;
        }

        if (field.IsRepeated && value is JsonArray array)
        {
            for (var i = 0; i < array.Count; i++)
            {
                if (array[i] is JsonObject element)
                {
                    array[i] = null;
                    array[i] = Complete(element, field.MessageType);
                }
            }

            return array;
        }

        return value is JsonObject nested ? Complete(nested, field.MessageType) : value;
    }

    private static bool IsWellKnown(MessageDescriptor message) =>
        message.File.Package == "google.protobuf";
}
