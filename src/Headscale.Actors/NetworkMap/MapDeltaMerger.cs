using System.Collections.Immutable;
using Headscale.Protocol.Tailcfg;

namespace Headscale.Actors.NetworkMap;

/// <summary>
/// Folds a run of deltas for one viewer into one MapResponse that leaves the client in the same
/// state as applying them one by one. The client applies a message's parts in a fixed order —
/// <c>PeersRemoved</c>, then <c>PeersChanged</c>, then <c>OnlineChange</c>, then
/// <c>PeersChangedPatch</c> — so the rules are, per peer id and in arrival order:
/// <list type="bullet">
/// <item>a changed peer replaces any earlier change, patch or online change of that id (the rendered
/// peer already holds them) and cancels an earlier removal;</item>
/// <item>a removal cancels every earlier change, patch and online change of that id, and a patch or
/// online change of a removed peer (not added again) is dropped;</item>
/// <item>patches merge field by field (the later value wins), online changes keep the latest value;</item>
/// <item>self node, DERP map, DNS, packet filter, SSH policy and the other settings: the latest wins;
/// user profiles merge by id, the latest wins.</item>
/// </list>
/// Full maps (<c>Peers</c>) are never merged: they supersede every delta before them.
/// </summary>
public static class MapDeltaMerger
{
    public static MapResponse Merge(IReadOnlyList<MapResponse> deltas)
    {
        ArgumentNullException.ThrowIfNull(deltas);
        if (deltas.Count == 0)
        {
            throw new ArgumentException("nothing to merge", nameof(deltas));
        }

        if (deltas.Count == 1)
        {
            return deltas[0];
        }

        var changed = new Dictionary<long, MapNode>();
        var removed = new HashSet<long>();
        var patches = new Dictionary<long, PeerChange>();
        var online = new Dictionary<long, bool>();
        var profiles = new Dictionary<long, UserProfile>();
        var merged = new MapResponse();
        foreach (var delta in deltas)
        {
            if (delta.Peers is { IsDefaultOrEmpty: false } || delta.KeepAlive)
            {
                throw new ArgumentException("only deltas can be merged (no full maps, no keep-alives)", nameof(deltas));
            }

            foreach (var id in delta.PeersRemoved ?? [])
            {
                changed.Remove(id);
                patches.Remove(id);
                online.Remove(id);
                removed.Add(id);
            }

            foreach (var peer in delta.PeersChanged ?? [])
            {
                changed[peer.Id] = peer;
                removed.Remove(peer.Id);
                patches.Remove(peer.Id);
                online.Remove(peer.Id);
            }

            foreach (var (id, isOnline) in delta.OnlineChange ?? ImmutableDictionary<long, bool>.Empty)
            {
                if (removed.Contains(id))
                {
                    continue;
                }

                online[id] = isOnline;
                if (patches.TryGetValue(id, out var earlier) && earlier.Online is not null)
                {
                    patches[id] = earlier with { Online = null };
                }
            }

            foreach (var patch in delta.PeersChangedPatch ?? [])
            {
                if (removed.Contains(patch.NodeId))
                {
                    continue;
                }

                patches[patch.NodeId] = patches.TryGetValue(patch.NodeId, out var earlier) ? Combine(earlier, patch) : patch;
                if (patch.Online is not null)
                {
                    online.Remove(patch.NodeId);
                }
            }

            foreach (var profile in delta.UserProfiles ?? [])
            {
                profiles[profile.ID] = profile;
            }

            merged = merged with
            {
                ControlTime = delta.ControlTime ?? merged.ControlTime,
                Node = delta.Node ?? merged.Node,
                DerpMapRaw = delta.DerpMapRaw ?? merged.DerpMapRaw,
                DnsConfig = delta.DnsConfig ?? merged.DnsConfig,
                Domain = delta.Domain ?? merged.Domain,
                CollectServices = delta.CollectServices ?? merged.CollectServices,
                PacketFilterRaw = delta.PacketFilterRaw ?? merged.PacketFilterRaw,
                SshPolicyRaw = delta.SshPolicyRaw ?? merged.SshPolicyRaw,
                DisableLogTail = delta.DisableLogTail ?? merged.DisableLogTail,
            };
        }

        return merged with
        {
            PeersChanged = changed.Count > 0 ? [.. changed.Values.OrderBy(p => p.Id)] : null,
            PeersRemoved = removed.Count > 0 ? [.. removed.Order()] : null,
            PeersChangedPatch = patches.Count > 0 ? [.. patches.Values.OrderBy(p => p.NodeId)] : null,
            OnlineChange = online.Count > 0 ? online.ToImmutableDictionary() : null,
            UserProfiles = profiles.Count > 0 ? [.. profiles.Values.OrderBy(p => p.ID)] : null,
        };
    }

    private static PeerChange Combine(PeerChange earlier, PeerChange later) => earlier with
    {
        DerpRegion = later.DerpRegion != 0 ? later.DerpRegion : earlier.DerpRegion,
        Endpoints = later.Endpoints ?? earlier.Endpoints,
        Key = later.Key ?? earlier.Key,
        DiscoKey = later.DiscoKey ?? earlier.DiscoKey,
        Online = later.Online ?? earlier.Online,
        LastSeen = later.LastSeen ?? earlier.LastSeen,
        KeyExpiry = later.KeyExpiry ?? earlier.KeyExpiry,
    };
}
