using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Headscale.Policy.HuJson;

/// <summary>Writes a parsed value back as compact standard JSON (used for capability values, which are opaque).</summary>
public static class HuJsonWriter
{
    public static string ToJson(HuValue value)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
            Write(writer, value);
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    private static void Write(Utf8JsonWriter w, HuValue value)
    {
        switch (value)
        {
            case HuObject o:
                w.WriteStartObject();
                foreach (var m in o.Members) { w.WritePropertyName(m.Name); Write(w, m.Value); }
                w.WriteEndObject();
                break;
            case HuArray a:
                w.WriteStartArray();
                foreach (var item in a.Items) Write(w, item);
                w.WriteEndArray();
                break;
            case HuString s: w.WriteStringValue(s.Value); break;
            case HuNumber n: w.WriteRawValue(n.Literal); break;
            case HuBoolean b: w.WriteBooleanValue(b.Value); break;
            default: w.WriteNullValue(); break;
        }
    }
}
