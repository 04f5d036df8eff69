using System.Text.Json;
using Google.Api;
using Google.Protobuf.Reflection;
using ServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;

namespace Headscale.Api.Management.OpenApi;

/// <summary>
/// Writes an OpenAPI v2 (Swagger) document for a gRPC service from its descriptors'
/// <c>google.api.http</c> annotations, following grpc-gateway's protoc-gen-openapiv2 conventions:
/// camelCase path parameters, fields not bound by the path or body become query parameters,
/// a body of <c>*</c> is one parameter named <c>body</c>, and operations without parameters have
/// no <c>parameters</c> key. Headplane fingerprints (path, method, parameter count), so those three
/// must follow the annotations exactly.
/// </summary>
public static class OpenApiV2DocumentGenerator
{
    private const string TimestampFullName = "google.protobuf.Timestamp";

    public static byte[] Generate(ServiceDescriptor service, string title)
    {
        ArgumentNullException.ThrowIfNull(service);
        var definitions = new SortedDictionary<string, Action<Utf8JsonWriter>>(StringComparer.Ordinal);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteString("swagger", "2.0");
            json.WriteStartObject("info");
            json.WriteString("title", title);
            json.WriteString("version", "version not set");
            json.WriteEndObject();
            json.WriteStartArray("tags");
            json.WriteStartObject();
            json.WriteString("name", service.Name);
            json.WriteEndObject();
            json.WriteEndArray();
            WriteStringArray(json, "consumes", "application/json");
            WriteStringArray(json, "produces", "application/json");
            // The API key goes in Authorization as "Bearer <key>"; Swagger UI's Authorize button uses this.
            json.WriteStartObject("securityDefinitions");
            json.WriteStartObject("Bearer");
            json.WriteString("type", "apiKey");
            json.WriteString("name", "Authorization");
            json.WriteString("in", "header");
            json.WriteString("description", "Bearer followed by an API key (headscale apikeys create)");
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteStartArray("security");
            json.WriteStartObject();
            json.WriteStartArray("Bearer");
            json.WriteEndArray();
            json.WriteEndObject();
            json.WriteEndArray();

            json.WriteStartObject("paths");
            foreach (var group in HttpOperations(service).GroupBy(o => o.Path))
            {
                json.WriteStartObject(group.Key);
                foreach (var operation in group)
                {
                    WriteOperation(json, service, operation, definitions);
                }

                json.WriteEndObject();
            }

            json.WriteEndObject();

            AddStatusDefinitions(definitions);
            json.WriteStartObject("definitions");
            foreach (var (name, write) in definitions)
            {
                json.WritePropertyName(name);
                write(json);
            }

            json.WriteEndObject();
            json.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>One REST operation: OpenAPI path (camelCase params), lower-case method, and its binding.</summary>
    internal sealed record HttpOperation(
        MethodDescriptor Method, string Verb, string Path, IReadOnlyList<FieldDescriptor> PathFields, string Body);

    internal static IEnumerable<HttpOperation> HttpOperations(ServiceDescriptor service)
    {
        foreach (var method in service.Methods)
        {
            var rule = method.GetOptions()?.GetExtension(AnnotationsExtensions.Http);
            if (rule is null)
            {
                continue;
            }

            var (verb, template) = rule.PatternCase switch
            {
                HttpRule.PatternOneofCase.Get => ("get", rule.Get),
                HttpRule.PatternOneofCase.Post => ("post", rule.Post),
                HttpRule.PatternOneofCase.Put => ("put", rule.Put),
                HttpRule.PatternOneofCase.Delete => ("delete", rule.Delete),
                HttpRule.PatternOneofCase.Patch => ("patch", rule.Patch),
                _ => throw new NotSupportedException($"{method.FullName}: unsupported http rule {rule.PatternCase}"),
            };
            var pathFields = new List<FieldDescriptor>();
            var path = PathTemplate.Rewrite(template, protoName =>
            {
                var field = method.InputType.FindFieldByName(protoName)
                    ?? throw new InvalidOperationException($"{method.FullName}: path parameter '{protoName}' is not a field of {method.InputType.Name}");
                pathFields.Add(field);
                return field.JsonName;
            });
            yield return new HttpOperation(method, verb, path, pathFields, rule.Body);
        }
    }

    private static void WriteOperation(
        Utf8JsonWriter json, ServiceDescriptor service, HttpOperation operation, IDictionary<string, Action<Utf8JsonWriter>> definitions)
    {
        var method = operation.Method;
        json.WriteStartObject(operation.Verb);
        json.WriteString("operationId", $"{service.Name}_{method.Name}");

        json.WriteStartObject("responses");
        json.WriteStartObject("200");
        json.WriteString("description", "A successful response.");
        WriteSchemaRef(json, "schema", AddMessageDefinition(method.OutputType, definitions));
        json.WriteEndObject();
        json.WriteStartObject("default");
        json.WriteString("description", "An unexpected error response.");
        WriteSchemaRef(json, "schema", "rpcStatus");
        json.WriteEndObject();
        json.WriteEndObject();

        var bodyless = method.InputType.Fields.InFieldNumberOrder()
            .Where(f => !operation.PathFields.Contains(f))
            .ToList();
        var hasParameters = operation.PathFields.Count > 0 || operation.Body.Length > 0 || bodyless.Count > 0;
        if (hasParameters)
        {
            json.WriteStartArray("parameters");
            foreach (var field in operation.PathFields)
            {
                json.WriteStartObject();
                json.WriteString("name", field.JsonName);
                json.WriteString("in", "path");
                json.WriteBoolean("required", true);
                OpenApiSchemas.WriteScalarType(json, field);
                json.WriteEndObject();
            }

            if (operation.Body == "*")
            {
                var bodyDefinition = operation.PathFields.Count == 0
                    ? AddMessageDefinition(method.InputType, definitions)
                    : AddBodyDefinition($"{service.Name}{method.Name}Body", bodyless, definitions);
                json.WriteStartObject();
                json.WriteString("name", "body");
                json.WriteString("in", "body");
                json.WriteBoolean("required", true);
                WriteSchemaRef(json, "schema", bodyDefinition);
                json.WriteEndObject();
            }
            else if (operation.Body.Length > 0)
            {
                throw new NotSupportedException($"{method.FullName}: only body \"*\" or no body is supported");
            }
            else
            {
                foreach (var field in bodyless)
                {
                    WriteQueryParameter(json, field);
                }
            }

            json.WriteEndArray();
        }

        WriteStringArray(json, "tags", service.Name);
        json.WriteEndObject();
    }

    private static void WriteQueryParameter(Utf8JsonWriter json, FieldDescriptor field)
    {
        if (field.FieldType == FieldType.Message && field.MessageType.FullName != TimestampFullName)
        {
            throw new NotSupportedException($"{field.FullName}: nested messages as query parameters are not supported");
        }

        json.WriteStartObject();
        json.WriteString("name", field.JsonName);
        json.WriteString("in", "query");
        json.WriteBoolean("required", false);
        if (field.IsRepeated)
        {
            json.WriteString("type", "array");
            json.WriteStartObject("items");
            OpenApiSchemas.WriteScalarType(json, field);
            json.WriteEndObject();
            json.WriteString("collectionFormat", "multi");
        }
        else
        {
            OpenApiSchemas.WriteScalarType(json, field);
        }

        json.WriteEndObject();
    }

    private static string AddMessageDefinition(MessageDescriptor message, IDictionary<string, Action<Utf8JsonWriter>> definitions)
    {
        var name = OpenApiSchemas.DefinitionName(message.File.Package, message.Name);
        if (!definitions.ContainsKey(name))
        {
            var fields = message.Fields.InFieldNumberOrder();
            definitions[name] = json => OpenApiSchemas.WriteObject(json, fields);
            AddReferencedDefinitions(fields, definitions);
        }

        return name;
    }

    private static string AddBodyDefinition(string name, IReadOnlyList<FieldDescriptor> fields, IDictionary<string, Action<Utf8JsonWriter>> definitions)
    {
        definitions[name] = json => OpenApiSchemas.WriteObject(json, fields);
        AddReferencedDefinitions(fields, definitions);
        return name;
    }

    private static void AddReferencedDefinitions(IEnumerable<FieldDescriptor> fields, IDictionary<string, Action<Utf8JsonWriter>> definitions)
    {
        foreach (var field in fields)
        {
            if (field.FieldType == FieldType.Message && field.MessageType.FullName != TimestampFullName)
            {
                AddMessageDefinition(field.MessageType, definitions);
            }
            else if (field.FieldType == FieldType.Enum)
            {
                var enumType = field.EnumType;
                definitions[OpenApiSchemas.DefinitionName(enumType.File.Package, enumType.Name)] = json => OpenApiSchemas.WriteEnum(json, enumType);
            }
        }
    }

    private static void AddStatusDefinitions(IDictionary<string, Action<Utf8JsonWriter>> definitions)
    {
        definitions["protobufAny"] = json =>
        {
            json.WriteStartObject();
            json.WriteString("type", "object");
            json.WriteStartObject("properties");
            json.WriteStartObject("@type");
            json.WriteString("type", "string");
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteStartObject("additionalProperties");
            json.WriteEndObject();
            json.WriteEndObject();
        };
        definitions["rpcStatus"] = json =>
        {
            json.WriteStartObject();
            json.WriteString("type", "object");
            json.WriteStartObject("properties");
            json.WriteStartObject("code");
            json.WriteString("type", "integer");
            json.WriteString("format", "int32");
            json.WriteEndObject();
            json.WriteStartObject("message");
            json.WriteString("type", "string");
            json.WriteEndObject();
            json.WriteStartObject("details");
            json.WriteString("type", "array");
            json.WriteStartObject("items");
            json.WriteString("$ref", "#/definitions/protobufAny");
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndObject();
            json.WriteEndObject();
        };
    }

    internal static void WriteSchemaRef(Utf8JsonWriter json, string propertyName, string definition)
    {
        json.WriteStartObject(propertyName);
        json.WriteString("$ref", "#/definitions/" + definition);
        json.WriteEndObject();
    }

    private static void WriteStringArray(Utf8JsonWriter json, string propertyName, string value)
    {
        json.WriteStartArray(propertyName);
        json.WriteStringValue(value);
        json.WriteEndArray();
    }
}
