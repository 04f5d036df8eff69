using System.Text.Json;
using Google.Protobuf.Reflection;

namespace Headscale.Api.Management.OpenApi;

/// <summary>Swagger 2.0 schemas for protobuf fields, with the proto3 JSON mapping's types.</summary>
internal static class OpenApiSchemas
{
    /// <summary>grpc-gateway names definitions after the last package segment: headscale.v1.Node → v1Node.</summary>
    public static string DefinitionName(string package, string name)
    {
        var lastDot = package.LastIndexOf('.');
        return (lastDot < 0 ? package : package[(lastDot + 1)..]) + name;
    }

    public static void WriteObject(Utf8JsonWriter json, IEnumerable<FieldDescriptor> fields)
    {
        json.WriteStartObject();
        json.WriteString("type", "object");
        json.WriteStartObject("properties");
        foreach (var field in fields)
        {
            json.WriteStartObject(field.JsonName);
            if (field.IsMap)
            {
                throw new NotSupportedException($"{field.FullName}: map fields are not supported");
            }

            if (field.IsRepeated)
            {
                json.WriteString("type", "array");
                json.WriteStartObject("items");
                WriteFieldType(json, field);
                json.WriteEndObject();
            }
            else
            {
                WriteFieldType(json, field);
            }

            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }

    public static void WriteEnum(Utf8JsonWriter json, EnumDescriptor enumType)
    {
        json.WriteStartObject();
        json.WriteString("type", "string");
        json.WriteStartArray("enum");
        foreach (var value in enumType.Values)
        {
            json.WriteStringValue(value.Name);
        }

        json.WriteEndArray();
        json.WriteString("default", enumType.Values[0].Name);
        json.WriteEndObject();
    }

    private static void WriteFieldType(Utf8JsonWriter json, FieldDescriptor field)
    {
        if (field.FieldType == FieldType.Message && field.MessageType.FullName != "google.protobuf.Timestamp")
        {
            json.WriteString("$ref", "#/definitions/" + DefinitionName(field.MessageType.File.Package, field.MessageType.Name));
        }
        else if (field.FieldType == FieldType.Enum)
        {
            json.WriteString("$ref", "#/definitions/" + DefinitionName(field.EnumType.File.Package, field.EnumType.Name));
        }
        else
        {
            WriteScalarType(json, field);
        }
    }

    /// <summary>type/format of a scalar, enum (as its names) or Timestamp; 64-bit integers are strings in JSON.</summary>
    public static void WriteScalarType(Utf8JsonWriter json, FieldDescriptor field)
    {
        var (type, format) = field.FieldType switch
        {
            FieldType.Double => ("number", "double"),
            FieldType.Float => ("number", "float"),
            FieldType.Int64 or FieldType.SInt64 or FieldType.SFixed64 => ("string", "int64"),
            FieldType.UInt64 or FieldType.Fixed64 => ("string", "uint64"),
            FieldType.Int32 or FieldType.SInt32 or FieldType.SFixed32 => ("integer", "int32"),
            FieldType.UInt32 or FieldType.Fixed32 => ("integer", "int64"),
            FieldType.Bool => ("boolean", null),
            FieldType.String => ("string", null),
            FieldType.Bytes => ("string", "byte"),
            FieldType.Enum => ("string", null),
            FieldType.Message when field.MessageType.FullName == "google.protobuf.Timestamp" => ("string", "date-time"),
            _ => throw new NotSupportedException($"{field.FullName}: {field.FieldType} cannot be a path or query parameter"),
        };
        json.WriteString("type", type);
        if (format is not null)
        {
            json.WriteString("format", format);
        }

        if (field.FieldType == FieldType.Enum)
        {
            json.WriteStartArray("enum");
            foreach (var value in field.EnumType.Values)
            {
                json.WriteStringValue(value.Name);
            }

            json.WriteEndArray();
            json.WriteString("default", field.EnumType.Values[0].Name);
        }
    }
}

/// <summary>Rewrites the variables of a google.api.http path template.</summary>
internal static class PathTemplate
{
    /// <summary>Replaces each <c>{name}</c> (or <c>{name=pattern}</c>) with <c>{rename(name)}</c>.</summary>
    public static string Rewrite(string template, Func<string, string> rename)
    {
        var result = new System.Text.StringBuilder(template.Length);
        var position = 0;
        while (position < template.Length)
        {
            var open = template.IndexOf('{', position);
            if (open < 0)
            {
                result.Append(template, position, template.Length - position);
                break;
            }

            var close = template.IndexOf('}', open);
            if (close < 0)
            {
                throw new FormatException($"unclosed variable in path template '{template}'");
            }

            result.Append(template, position, open - position);
            var variable = template[(open + 1)..close];
            var equals = variable.IndexOf('=');
            var name = equals < 0 ? variable : variable[..equals];
            result.Append('{').Append(rename(name)).Append('}');
            position = close + 1;
        }

        return result.ToString();
    }
}
