using System.Collections.Immutable;

namespace Headscale.Protocol.Tailcfg;

/// <summary>
/// What one <c>MapResponse</c> message says. Null fields are left out, which the client reads
/// as "unchanged" (see the delta rules). Pre-encoded JSON (<c>Raw</c>) is spliced in verbatim
/// so fragments shared by many viewers are encoded once.
/// </summary>
public sealed record MapResponse
{
    public bool KeepAlive { get; init; }
    public DateTimeOffset? ControlTime { get; init; }
    public MapNode? Node { get; init; }
    public ReadOnlyMemory<byte>? DerpMapRaw { get; init; }

    /// <summary>A complete peer set; must not be empty (use <see cref="PeersRemoved"/> for "no peers").</summary>
    public ImmutableArray<MapNode>? Peers { get; init; }

    public ImmutableArray<MapNode>? PeersChanged { get; init; }
    public ImmutableArray<long>? PeersRemoved { get; init; }
    public ImmutableArray<PeerChange>? PeersChangedPatch { get; init; }
    public ImmutableDictionary<long, bool>? OnlineChange { get; init; }
    public DnsConfig? DnsConfig { get; init; }
    public string? Domain { get; init; }
    public bool? CollectServices { get; init; }

    /// <summary>Raw JSON array of FilterRules, sent as <c>PacketFilters: {"base": …}</c>.</summary>
    public ReadOnlyMemory<byte>? PacketFilterRaw { get; init; }

    public ImmutableArray<UserProfile>? UserProfiles { get; init; }

    /// <summary>Raw JSON of the SSHPolicy object.</summary>
    public ReadOnlyMemory<byte>? SshPolicyRaw { get; init; }

    public bool? DisableLogTail { get; init; }

    public static readonly MapResponse KeepAliveMessage = new() { KeepAlive = true };
}
