using System.Text.Json.Serialization;
using Headscale.Actors.ApiKeys;
using Headscale.Actors.Identity;
using Headscale.Actors.Policy;

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
[JsonSerializable(typeof(ApiKeyRecord))]
[JsonSerializable(typeof(ApiKeyState))]
[JsonSerializable(typeof(ApiKeyCommands.CreateApiKey))]
[JsonSerializable(typeof(ApiKeyCommands.ExpireApiKey))]
[JsonSerializable(typeof(ApiKeyCommands.DeleteApiKey))]
[JsonSerializable(typeof(ApiKeyCommands.GetApiKey))]
[JsonSerializable(typeof(ApiKeyCommands.ListApiKeys))]
[JsonSerializable(typeof(ApiKeyCommands.ApiKeyResult))]
[JsonSerializable(typeof(ApiKeyCommands.ApiKeyList))]
[JsonSerializable(typeof(ApiKeyEvents.ApiKeyCreated))]
[JsonSerializable(typeof(ApiKeyEvents.ApiKeyExpired))]
[JsonSerializable(typeof(ApiKeyEvents.ApiKeyDeleted))]
[JsonSerializable(typeof(PolicyCommands.SetPolicy))]
[JsonSerializable(typeof(PolicyCommands.GetPolicy))]
[JsonSerializable(typeof(PolicyCommands.PolicyResult))]
[JsonSerializable(typeof(PolicyState))]
[JsonSerializable(typeof(PolicyEvents.PolicyChanged))]
internal sealed partial class PersistedJsonContext : JsonSerializerContext;
