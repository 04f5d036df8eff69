using System.Collections.Frozen;
using System.Text.Json.Serialization.Metadata;
using Headscale.Actors.ApiKeys;
using Headscale.Actors.Identity;
using Headscale.Actors.Policy;

namespace Headscale.Actors.Serialization;

/// <summary>
/// The permanent manifest of every serializable type. A manifest, once released, is never reused
/// for another type and never renamed: journals written today must read in ten years.
/// </summary>
public static class SerializableTypes
{
    private static readonly (string Manifest, Type Type, JsonTypeInfo Info)[] All =
    [
        ("ida.r", typeof(IdAllocatorEvents.IdsReserved), PersistedJsonContext.Default.IdsReserved),
        ("ida.s", typeof(IdAllocatorState), PersistedJsonContext.Default.IdAllocatorState),
        ("ida.a", typeof(IdAllocatorCommands.AllocateId), PersistedJsonContext.Default.AllocateId),
        ("ida.ad", typeof(IdAllocatorCommands.IdAllocated), PersistedJsonContext.Default.IdAllocated),

        ("ak.rec", typeof(ApiKeyRecord), PersistedJsonContext.Default.ApiKeyRecord),
        ("ak.s", typeof(ApiKeyState), PersistedJsonContext.Default.ApiKeyState),
        ("ak.c", typeof(ApiKeyCommands.CreateApiKey), PersistedJsonContext.Default.CreateApiKey),
        ("ak.x", typeof(ApiKeyCommands.ExpireApiKey), PersistedJsonContext.Default.ExpireApiKey),
        ("ak.d", typeof(ApiKeyCommands.DeleteApiKey), PersistedJsonContext.Default.DeleteApiKey),
        ("ak.g", typeof(ApiKeyCommands.GetApiKey), PersistedJsonContext.Default.GetApiKey),
        ("ak.l", typeof(ApiKeyCommands.ListApiKeys), PersistedJsonContext.Default.ListApiKeys),
        ("ak.r", typeof(ApiKeyCommands.ApiKeyResult), PersistedJsonContext.Default.ApiKeyResult),
        ("ak.ls", typeof(ApiKeyCommands.ApiKeyList), PersistedJsonContext.Default.ApiKeyList),
        ("ak.e.c", typeof(ApiKeyEvents.ApiKeyCreated), PersistedJsonContext.Default.ApiKeyCreated),
        ("ak.e.x", typeof(ApiKeyEvents.ApiKeyExpired), PersistedJsonContext.Default.ApiKeyExpired),
        ("ak.e.d", typeof(ApiKeyEvents.ApiKeyDeleted), PersistedJsonContext.Default.ApiKeyDeleted),

        ("pol.set", typeof(PolicyCommands.SetPolicy), PersistedJsonContext.Default.SetPolicy),
        ("pol.get", typeof(PolicyCommands.GetPolicy), PersistedJsonContext.Default.GetPolicy),
        ("pol.r", typeof(PolicyCommands.PolicyResult), PersistedJsonContext.Default.PolicyResult),
        ("pol.s", typeof(PolicyState), PersistedJsonContext.Default.PolicyState),
        ("pol.e.c", typeof(PolicyEvents.PolicyChanged), PersistedJsonContext.Default.PolicyChanged),
    ];

    public static readonly FrozenDictionary<Type, (string Manifest, JsonTypeInfo Info)> ByType =
        All.ToFrozenDictionary(e => e.Type, e => (e.Manifest, e.Info));

    public static readonly FrozenDictionary<string, JsonTypeInfo> ByManifest =
        All.ToFrozenDictionary(e => e.Manifest, e => e.Info, StringComparer.Ordinal);
}
