using System.Text.Json;
using System.Text.Json.Serialization;

namespace Headscale.Protocol.Tailcfg;

/// <summary>
/// Source-generated JSON for the control protocol's types. Go's field names are used verbatim
/// (no naming policy); reading is case-sensitive, as the spec recommends emitting exact names.
/// </summary>
[JsonSourceGenerationOptions(
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    AllowTrailingCommas = false,
    ReadCommentHandling = JsonCommentHandling.Disallow)]
[JsonSerializable(typeof(MapRequest))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(DnsConfig))]
[JsonSerializable(typeof(UserProfile))]
public sealed partial class TailcfgJsonContext : JsonSerializerContext;
