using System.Collections.Immutable;

namespace Headscale.Protocol.Tailcfg;

/// <summary>
/// A node as the map protocol shows it (<c>tailcfg.Node</c>), already resolved: keys in text form,
/// addresses as single-address prefixes, the reported Hostinfo as raw JSON.
/// </summary>
public sealed record MapNode
{
    public required long Id { get; init; }
    public required string Name { get; init; }
    public required long User { get; init; }
    public required string Key { get; init; }
    public DateTimeOffset? KeyExpiry { get; init; }
    public required string Machine { get; init; }
    public string? DiscoKey { get; init; }
    public required ImmutableArray<string> Addresses { get; init; }

    /// <summary>Null means "same as Addresses" (capver ≥ 112 understands that).</summary>
    public ImmutableArray<string>? AllowedIPs { get; init; }

    public ImmutableArray<string> Endpoints { get; init; } = [];
    public int HomeDerp { get; init; }
    public ReadOnlyMemory<byte> Hostinfo { get; init; } = "{}"u8.ToArray();
    public DateTimeOffset Created { get; init; }
    public ImmutableArray<string> Tags { get; init; } = [];
    public ImmutableArray<string> PrimaryRoutes { get; init; } = [];
    public DateTimeOffset? LastSeen { get; init; }
    public bool? Online { get; init; }
    public bool MachineAuthorized { get; init; } = true;
    public bool Expired { get; init; }

    /// <summary>Raw JSON object for <c>CapMap</c>, or empty for none.</summary>
    public ReadOnlyMemory<byte> CapMap { get; init; }
}

/// <summary>One entry of <c>PeersChangedPatch</c>: only the fields that are set are sent.</summary>
public sealed record PeerChange(long NodeId)
{
    public int DerpRegion { get; init; }
    public ImmutableArray<string>? Endpoints { get; init; }
    public string? Key { get; init; }
    public string? DiscoKey { get; init; }
    public bool? Online { get; init; }
    public DateTimeOffset? LastSeen { get; init; }
    public DateTimeOffset? KeyExpiry { get; init; }
}
