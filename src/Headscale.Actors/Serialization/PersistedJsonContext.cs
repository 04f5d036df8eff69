using System.Text.Json.Serialization;
using Headscale.Actors.Identity;

namespace Headscale.Actors.Serialization;

/// <summary>Source-generated JSON metadata for persisted types: no reflection at run time.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(IdAllocatorEvents.IdsReserved))]
[JsonSerializable(typeof(IdAllocatorState))]
[JsonSerializable(typeof(IdAllocatorCommands.AllocateId))]
[JsonSerializable(typeof(IdAllocatorCommands.IdAllocated))]
internal sealed partial class PersistedJsonContext : JsonSerializerContext;
