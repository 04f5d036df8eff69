using System.Collections.Immutable;
using Headscale.Actors.Serialization;

namespace Headscale.Actors.Identity;

/// <summary>Commands for the <see cref="IdAllocatorActor"/> singleton.</summary>
public static class IdAllocatorCommands
{
    /// <summary>
    /// Sent by registration and management code (through <see cref="IIdAllocator"/>) to obtain a
    /// fresh id of <paramref name="Kind"/>. Replied to with <see cref="IdAllocated"/>.
    /// </summary>
    public sealed record AllocateId(IdKind Kind) : IHeadscaleSerializable;

    /// <summary>The reply to <see cref="AllocateId"/>: an id never handed out before, cluster-wide.</summary>
    public sealed record IdAllocated(IdKind Kind, ulong Id) : IHeadscaleSerializable;
}

/// <summary>Events persisted by the <see cref="IdAllocatorActor"/>.</summary>
public static class IdAllocatorEvents
{
    /// <summary>
    /// Ids of <paramref name="Kind"/> up to and including <paramref name="UpTo"/> may be handed out
    /// from memory. After a restart allocation resumes above <paramref name="UpTo"/>, so an unused
    /// rest of a block becomes a gap, never a duplicate.
    /// </summary>
    public sealed record IdsReserved(IdKind Kind, ulong UpTo) : IHeadscaleSerializable;
}

/// <summary>Persisted state: the highest reserved id per kind.</summary>
public sealed record IdAllocatorState(ImmutableDictionary<IdKind, ulong> ReservedUpTo) : IHeadscaleSerializable
{
    public static readonly IdAllocatorState Empty = new(ImmutableDictionary<IdKind, ulong>.Empty);

    public ulong ReservedFor(IdKind kind) => ReservedUpTo.GetValueOrDefault(kind);

    public IdAllocatorState Apply(IdAllocatorEvents.IdsReserved e) =>
        new(ReservedUpTo.SetItem(e.Kind, Math.Max(ReservedFor(e.Kind), e.UpTo)));
}
