using System.Collections.Immutable;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Headscale.Api.Configuration;

/// <summary>
/// Reads <c>dns.extra_records_path</c>: a JSON array of <c>{"name", "type", "value"}</c> objects,
/// <c>type</c> <c>A</c> or <c>AAAA</c> with an address of that family, as Headscale accepts.
/// </summary>
public static class ExtraRecordsJson
{
    /// <summary>Parses <paramref name="json"/>; on failure <paramref name="error"/> names the record and the field.</summary>
    public static bool TryParse(ReadOnlySpan<byte> json, out ImmutableArray<DnsExtraRecord> records, out string error)
    {
        records = [];
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { AllowTrailingCommas = false, CommentHandling = JsonCommentHandling.Disallow });
        }
        catch (JsonException e)
        {
            error = $"not valid JSON: {e.Message}";
            return false;
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Array)
            {
                error = "expected a JSON array of {\"name\", \"type\", \"value\"} records";
                return false;
            }

            var builder = ImmutableArray.CreateBuilder<DnsExtraRecord>();
            var index = 0;
            foreach (var item in document.RootElement.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Object)
                {
                    error = $"record {index}: expected an object";
                    return false;
                }

                var name = Text(item, "name");
                var type = Text(item, "type");
                var value = Text(item, "value");
                if (Validate(name, type, value) is { } problem)
                {
                    error = $"record {index}: {problem}";
                    return false;
                }

                builder.Add(new DnsExtraRecord(name!, type!.ToUpperInvariant(), value!));
                index++;
            }

            records = builder.ToImmutable();
            error = "";
            return true;
        }
    }

    /// <summary>What is wrong with one record, or null: a name, type A or AAAA, and an address of that family.</summary>
    public static string? Validate(string? name, string? type, string? value)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return "\"name\" is missing or empty";
        }

        var family = type?.ToUpperInvariant() switch
        {
            "A" => AddressFamily.InterNetwork,
            "AAAA" => AddressFamily.InterNetworkV6,
            _ => AddressFamily.Unknown,
        };
        if (family == AddressFamily.Unknown)
        {
            return $"\"type\" '{type}' is not supported (A or AAAA)";
        }

        if (!IPAddress.TryParse(value, out var address) || address.AddressFamily != family)
        {
            return $"\"value\" '{value}' is not an {(family == AddressFamily.InterNetwork ? "IPv4" : "IPv6")} address for a {type!.ToUpperInvariant()} record";
        }

        return null;
    }

    private static string? Text(JsonElement item, string name) =>
        item.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
