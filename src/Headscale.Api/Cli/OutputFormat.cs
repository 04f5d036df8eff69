using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.Serialization;

namespace Headscale.Api.Cli;

/// <summary>Headscale's <c>-o/--output</c> formats.</summary>
public enum OutputFormat
{
    Human,
    Json,
    JsonLine,
    Yaml,
}

/// <summary>Writes command results in the format the user asked for.</summary>
public sealed class OutputWriter(OutputFormat format, TextWriter output, TextWriter error)
{
    private static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static readonly JsonSerializerOptions Compact = new()
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public OutputFormat Format => format;

    public TextWriter Error => error;

    public static bool TryParse(string? text, out OutputFormat format)
    {
        format = (text ?? "").Trim().ToLowerInvariant() switch
        {
            "" or "human" => OutputFormat.Human,
            "json" => OutputFormat.Json,
            "json-line" => OutputFormat.JsonLine,
            "yaml" => OutputFormat.Yaml,
            _ => (OutputFormat)(-1),
        };
        return Enum.IsDefined(format);
    }

    /// <summary>Writes a result: <paramref name="human"/> in human mode, the data otherwise.</summary>
    public void Write(JsonNode? data, string human)
    {
        switch (format)
        {
            case OutputFormat.Human:
                output.WriteLine(human);
                break;
            case OutputFormat.Json:
                output.WriteLine(data?.ToJsonString(Indented) ?? "null");
                break;
            case OutputFormat.JsonLine:
                output.WriteLine(data?.ToJsonString(Compact) ?? "null");
                break;
            case OutputFormat.Yaml:
                output.Write(new SerializerBuilder().Build().Serialize(ToPlain(data)));
                break;
        }
    }

    /// <summary>An error: one line on stderr in human mode, an <c>{"error": …}</c> object otherwise.</summary>
    public void WriteError(string message)
    {
        if (format == OutputFormat.Human)
        {
            error.WriteLine($"Error: {message}");
        }
        else
        {
            Write(new JsonObject { ["error"] = message }, message);
        }
    }

    private static object? ToPlain(JsonNode? node) => node switch
    {
        null => null,
        JsonObject o => o.ToDictionary(p => p.Key, p => ToPlain(p.Value)),
        JsonArray a => a.Select(ToPlain).ToList(),
        JsonValue v when v.TryGetValue<bool>(out var b) => b,
        JsonValue v when v.TryGetValue<long>(out var l) => l,
        JsonValue v when v.TryGetValue<double>(out var d) => d,
        _ => node.ToString(),
    };
}
