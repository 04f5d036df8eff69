using System.Globalization;
using System.Text.Json.Nodes;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Headscale.Api.Management;

namespace Headscale.Api.Cli.Management;

/// <summary>
/// How responses are shown: protobuf's JSON mapping for json/json-line/yaml (the REST field names:
/// lowerCamelCase, 64-bit ids as strings, RFC 3339 times, every field present in field order), and short
/// cell texts for the human tables.
/// </summary>
public static class ProtoOutput
{
    private static readonly JsonFormatter Formatter = new(JsonFormatter.Settings.Default.WithFormatDefaultValues(true));

    /// <summary>The message exactly as the REST surface writes it, unset message fields as <c>null</c>.</summary>
    public static JsonNode ToJson(IMessage message) =>
        GrpcGatewayJsonMiddleware.Complete(JsonNode.Parse(Formatter.Format(message))!.AsObject(), message.Descriptor);

    /// <summary>
    /// Writes <paramref name="message"/> as data, or <paramref name="human"/> (built only when needed).
    /// As Headscale's CLI does, a response that only wraps one list or one object (<c>ListNodes</c> →
    /// its nodes, <c>GetNode</c> → the node, <c>CreateApiKey</c> → the key) is printed as that payload,
    /// so <c>-o json | jq '.[]'</c> scripts keep working; <paramref name="whole"/> prints the response itself.
    /// </summary>
    public static int Write(OutputWriter output, IMessage message, Func<string> human, bool whole = false)
    {
        output.Write(output.Format == OutputFormat.Human ? null : Payload(message, whole), output.Format == OutputFormat.Human ? human() : "");
        return 0;
    }

    /// <summary>The data <see cref="Write"/> prints for <paramref name="message"/>.</summary>
    public static JsonNode? Payload(IMessage message, bool whole = false)
    {
        var json = ToJson(message);
        var fields = message.Descriptor.Fields.InFieldNumberOrder();
        if (whole || fields.Count != 1 || !IsPayload(fields[0]))
        {
            return json;
        }

        var envelope = json.AsObject();
        var name = envelope.GetAt(0).Key;
        var payload = envelope[name];
        envelope.Remove(name); // detached, so it can be written on its own
        return payload;
    }

    private static bool IsPayload(Google.Protobuf.Reflection.FieldDescriptor field) =>
        field.IsRepeated
        || field.FieldType is Google.Protobuf.Reflection.FieldType.Message or Google.Protobuf.Reflection.FieldType.String;

    /// <summary>A time as <c>yyyy-MM-dd HH:mm:ss</c> UTC; unset (or Go's zero time) as <c>N/A</c>.</summary>
    public static string Time(Timestamp? time) =>
        time is null || time.Seconds <= ZeroTimeSeconds
            ? "N/A"
            : time.ToDateTimeOffset().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    public static string YesNo(bool value) => value ? "true" : "false";

    public static string Join(IEnumerable<string> items) => string.Join(", ", items);

    /// <summary>Whether an expiry is set and has passed.</summary>
    public static bool HasExpired(Timestamp? expiry, DateTimeOffset now) =>
        expiry is not null && expiry.Seconds > ZeroTimeSeconds && expiry.ToDateTimeOffset() <= now;

    /// <summary>
    /// A key shown short as Tailscale does (<c>[abcde]</c>: the first five base64 characters of the
    /// raw key), from our <c>prefix:hex</c> form. Anything else is shown as it is.
    /// </summary>
    public static string ShortKey(string key)
    {
        var colon = key.IndexOf(':', StringComparison.Ordinal);
        var hex = colon >= 0 ? key[(colon + 1)..] : key;
        if (hex.Length < 8 || hex.Length % 2 != 0)
        {
            return key;
        }

        try
        {
            return "[" + Convert.ToBase64String(Convert.FromHexString(hex))[..5] + "]";
        }
        catch (FormatException)
        {
            return key;
        }
    }

    // Unix seconds of 0001-01-01T00:00:00Z: Go writes its zero time.Time as this Timestamp.
    private const long ZeroTimeSeconds = -62135596800;
}
