using System.Collections.Immutable;
using Headscale.Protocol.Tailcfg;

namespace Headscale.Actors.NetworkMap;

/// <summary>
/// What the network map knows about one node: the compact, immutable view from which self and
/// peer entries of every MapResponse are produced. Built from node events at the edge of the map.
/// </summary>
public sealed record PeerView
{
    public required long Id { get; init; }
    public required long UserId { get; init; }
    public required string UserLogin { get; init; }

    /// <summary>The MagicDNS label (given name), without the base domain.</summary>
    public required string GivenName { get; init; }

    public required string NodeKey { get; init; }
    public required string MachineKey { get; init; }
    public string? DiscoKey { get; init; }

    /// <summary>The node's own addresses as single-address prefixes (<c>100.64.0.1/32</c>).</summary>
    public required ImmutableArray<string> Addresses { get; init; }

    public ImmutableArray<string> AnnouncedRoutes { get; init; } = [];
    public ImmutableArray<string> ApprovedRoutes { get; init; } = [];
    public ImmutableArray<string> Tags { get; init; } = [];
    public ImmutableArray<string> Endpoints { get; init; } = [];
    public int HomeDerp { get; init; }
    public ReadOnlyMemory<byte> Hostinfo { get; init; } = "{}"u8.ToArray();
    public DateTimeOffset Created { get; init; }
    public DateTimeOffset? KeyExpiry { get; init; }
    public bool Online { get; init; }
    public DateTimeOffset? LastSeen { get; init; }

    public bool IsExpired(DateTimeOffset now) => KeyExpiry is { } expiry && expiry <= now;

    /// <summary>Routes both announced by the client and approved by an admin or policy.</summary>
    public IEnumerable<string> ServedRoutes => AnnouncedRoutes.Intersect(ApprovedRoutes, StringComparer.Ordinal);

    public static bool IsExitRoute(string prefix) => prefix is "0.0.0.0/0" or "::/0";
}

/// <summary>Tailnet-wide settings the map needs to render nodes.</summary>
public sealed record MapSettings(string BaseDomain, ReadOnlyMemory<byte> DerpMap, DnsConfig Dns, bool DisableLogTail)
{
    /// <summary>The MagicDNS FQDN of a node, with the trailing dot clients expect.</summary>
    public string Fqdn(PeerView node) =>
        BaseDomain.Length == 0 ? node.GivenName + "." : $"{node.GivenName}.{BaseDomain}.";
}
