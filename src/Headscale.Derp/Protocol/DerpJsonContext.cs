using System.Text.Json.Serialization;
using Headscale.Derp.Map;

namespace Headscale.Derp.Protocol;

[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(DerpClientInfo))]
[JsonSerializable(typeof(DerpServerInfo))]
[JsonSerializable(typeof(DerpMap))]
[JsonSerializable(typeof(DerpAdmitClientRequest))]
[JsonSerializable(typeof(DerpAdmitClientResponse))]
public sealed partial class DerpJsonContext : JsonSerializerContext;
