using System.Collections.Frozen;
using System.Text.Json.Serialization.Metadata;
using Headscale.Actors.Identity;

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
    ];

    public static readonly FrozenDictionary<Type, (string Manifest, JsonTypeInfo Info)> ByType =
        All.ToFrozenDictionary(e => e.Type, e => (e.Manifest, e.Info));

    public static readonly FrozenDictionary<string, JsonTypeInfo> ByManifest =
        All.ToFrozenDictionary(e => e.Manifest, e => e.Info, StringComparer.Ordinal);
}
