using System.Collections.Immutable;
using Headscale.Protocol.Tailcfg;

namespace Headscale.Actors.NetworkMap;

/// <summary>A MapResponse for one subscribed viewer.</summary>
public readonly record struct ViewerUpdate(long ViewerId, MapResponse Response);

/// <summary>
/// The in-memory tailnet as one host's network map sees it, and the incremental computation of
/// what each subscribed viewer must be told. Not thread-safe: one actor owns it.
/// The work for a change is proportional to the subscribed viewers times the nodes the change
/// touches, never to all pairs of nodes; only a policy change revisits every viewer's peer set.
/// Each changed peer is rendered once per change, and viewers that must be told the same thing get
/// the same <see cref="MapResponse"/> instance, so the network map can encode it once.
/// </summary>
public sealed class NetworkMapState(MapSettings settings, ITailnetPolicy policy)
{
    private readonly Dictionary<long, PeerView> _nodes = new();
    private readonly Dictionary<long, Viewer> _viewers = new();
    private readonly PrimaryRoutes _primaries = new();
    private readonly NodeSlots _slots = new();
    private readonly SortedSet<(DateTimeOffset At, long Id)> _pendingExpiries = new();
    private ITailnetPolicy _policy = policy;
    private MapSettings _settings = settings;

    /// <summary>
    /// Each node's peer entry as last rendered (with whether it was expired then), so full maps and deltas
    /// reuse one instance instead of rendering every peer for every viewer. Dropped whenever what the entry
    /// shows changes: the node itself, its primary routes, or the base domain.
    /// </summary>
    private readonly Dictionary<long, (MapNode Node, bool Expired)> _peerEntries = new();

    /// <summary>DERP map, DNS and domain of the next full maps (the DERP map can change while running).</summary>
    public MapSettings Settings
    {
        get => _settings;
        set
        {
            if (value.BaseDomain != _settings.BaseDomain)
            {
                _peerEntries.Clear();
            }

            _settings = value;
        }
    }

    /// <summary>
    /// Replaces the settings while running (a reloaded extra-records file, a refreshed DERP map).
    /// Every subscribed viewer gets the DNS config and/or DERP map that changed as a delta; clients
    /// replace theirs with it. A new DNS config object counts as a change: the source builds one
    /// only when its input changed.
    /// </summary>
    public IReadOnlyList<ViewerUpdate> ReplaceSettings(MapSettings next, DateTimeOffset now)
    {
        var previous = _settings;
        Settings = next;
        var dnsChanged = !ReferenceEquals(previous.Dns, next.Dns);
        var derpChanged = !previous.DerpMap.Span.SequenceEqual(next.DerpMap.Span);
        if (!dnsChanged && !derpChanged)
        {
            return [];
        }

        var delta = new MapResponse
        {
            ControlTime = now,
            DnsConfig = dnsChanged ? next.Dns : null,
            DerpMapRaw = derpChanged ? next.DerpMap : (ReadOnlyMemory<byte>?)null,
        };
        return [.. _viewers.Keys.Select(viewer => new ViewerUpdate(viewer, delta))];
    }

    /// <summary>The prefixes for which the node is the elected primary router.</summary>
    public IEnumerable<string> PrimaryRoutesOf(long nodeId) => _primaries.PrefixesOf(nodeId);

    public int NodeCount => _nodes.Count;

    public int ViewerCount => _viewers.Count;

    public PeerView? Get(long nodeId) => _nodes.GetValueOrDefault(nodeId);

    public IEnumerable<PeerView> Nodes => _nodes.Values;

    /// <summary>Starts sending to a viewer; returns its complete first map.</summary>
    public MapResponse Subscribe(long viewerId, DateTimeOffset now)
    {
        var self = _nodes.GetValueOrDefault(viewerId)
            ?? throw new InvalidOperationException($"node {viewerId} is not in the network map");
        var peers = VisiblePeers(self).OrderBy(n => n.Id).ToList();
        var sent = new PeerIdSet(_slots);
        foreach (var peer in peers)
        {
            sent.Add(peer.Id);
        }

        var viewer = new Viewer(sent, _policy.PacketFilterFor(self), _policy.SshPolicyFor(self));
        _viewers[viewerId] = viewer;
        return new MapResponse
        {
            ControlTime = now,
            Node = Render(self, now, isSelf: true),
            DerpMapRaw = _settings.DerpMap,
            Peers = peers.Count > 0 ? peers.Select(p => PeerEntry(p, now)).ToImmutableArray() : null,
            DnsConfig = _settings.Dns,
            Domain = _settings.BaseDomain,
            CollectServices = false,
            PacketFilterRaw = viewer.Filter,
            SshPolicyRaw = viewer.Ssh,
            UserProfiles = Profiles(peers.Append(self)),
            DisableLogTail = _settings.DisableLogTail,
        };
    }

    public void Unsubscribe(long viewerId) => _viewers.Remove(viewerId);

    /// <summary>A node was added or changed (registration, hostinfo, routes, tags, expiry, rename).</summary>
    public IReadOnlyList<ViewerUpdate> Upsert(PeerView node, DateTimeOffset now)
    {
        var previous = _nodes.GetValueOrDefault(node.Id);
        _nodes[node.Id] = node;
        ForgetExpiry(previous);
        if (node.KeyExpiry is { } expiry && expiry > now)
        {
            _pendingExpiries.Add((expiry, node.Id));
        }

        var prefixes = node.ServedRoutes.Concat(previous?.ServedRoutes ?? []);
        var changed = _primaries.Reelect(prefixes, _nodes);
        changed.Add(node.Id);
        Forget(changed);
        return Fanout(changed, removed: [], now, selfChanged: changed);
    }

    /// <summary>A node was deleted.</summary>
    public IReadOnlyList<ViewerUpdate> Remove(long nodeId, DateTimeOffset now)
    {
        if (!_nodes.Remove(nodeId, out var gone))
        {
            return [];
        }

        _viewers.Remove(nodeId);
        _peerEntries.Remove(nodeId);
        ForgetExpiry(gone);
        var changed = _primaries.Reelect(gone.ServedRoutes, _nodes);
        Forget(changed);
        var updates = Fanout(changed, removed: [nodeId], now, selfChanged: changed);
        // Every subscribed viewer has dropped it now; the slot can go to the next node.
        _slots.Release(nodeId);
        return updates;
    }

    /// <summary>When the next node key expires while nothing else changes; null when none will.</summary>
    public DateTimeOffset? NextExpiry => _pendingExpiries.Count > 0 ? _pendingExpiries.Min.At : null;

    /// <summary>
    /// Node keys whose expiry time has come: the node itself gets its self node (expired, so the client
    /// asks its user to log in again) and its peers get it as changed, marked expired, as Headscale does.
    /// Clients would also notice on their own clock; this makes it independent of their skew handling.
    /// </summary>
    public IReadOnlyList<ViewerUpdate> ExpireDue(DateTimeOffset now)
    {
        var due = new HashSet<long>();
        while (_pendingExpiries.Count > 0 && _pendingExpiries.Min.At <= now)
        {
            var entry = _pendingExpiries.Min;
            _pendingExpiries.Remove(entry);
            due.Add(entry.Id);
        }

        return due.Count == 0 ? [] : Fanout(due, removed: [], now, selfChanged: due);
    }

    private void ForgetExpiry(PeerView? node)
    {
        if (node?.KeyExpiry is { } expiry)
        {
            _pendingExpiries.Remove((expiry, node.Id));
        }
    }

    /// <summary>A node's map stream connected or ended: peers learn it through OnlineChange.</summary>
    public IReadOnlyList<ViewerUpdate> SetOnline(long nodeId, bool online, DateTimeOffset now)
    {
        if (!_nodes.TryGetValue(nodeId, out var node) || node.Online == online)
        {
            return [];
        }

        var updated = node with { Online = online, LastSeen = online ? node.LastSeen : now };
        _nodes[nodeId] = updated;
        // The node itself is in here too when it lost or won a seat: peers need its new AllowedIPs.
        var routeChanges = _primaries.Reelect(updated.ServedRoutes, _nodes);
        _peerEntries.Remove(nodeId);
        Forget(routeChanges);

        // Every viewer that sees the node gets the same message: one instance, encoded once.
        var delta = new MapResponse
        {
            ControlTime = now,
            OnlineChange = ImmutableDictionary<long, bool>.Empty.Add(nodeId, online),
            PeersChangedPatch = online ? null : [new PeerChange(nodeId) { LastSeen = now }],
        };
        var updates = new List<ViewerUpdate>();
        foreach (var (viewerId, viewer) in _viewers)
        {
            if (viewerId != nodeId && viewer.Peers.Contains(nodeId))
            {
                updates.Add(new ViewerUpdate(viewerId, delta));
            }
        }

        return routeChanges.Count == 0 ? updates : Merge(updates, Fanout(routeChanges, [], now, selfChanged: routeChanges));
    }

    /// <summary>Endpoints, disco key or home DERP changed (lite map updates): peers get a patch, nothing else.</summary>
    public IReadOnlyList<ViewerUpdate> UpdateEndpoints(long nodeId, ImmutableArray<string> endpoints, string? discoKey, int homeDerp, DateTimeOffset now)
    {
        if (!_nodes.TryGetValue(nodeId, out var node))
        {
            return [];
        }

        var patch = new PeerChange(nodeId)
        {
            Endpoints = endpoints.SequenceEqual(node.Endpoints) ? null : endpoints,
            DiscoKey = discoKey == node.DiscoKey ? null : discoKey,
            DerpRegion = homeDerp == node.HomeDerp ? 0 : homeDerp,
        };
        // A request without Hostinfo reports no home DERP (0): the known one stays.
        _nodes[nodeId] = node with { Endpoints = endpoints, DiscoKey = discoKey ?? node.DiscoKey, HomeDerp = homeDerp == 0 ? node.HomeDerp : homeDerp };
        _peerEntries.Remove(nodeId);
        if (patch.Endpoints is null && patch.DiscoKey is null && patch.DerpRegion == 0)
        {
            return [];
        }

        var delta = new MapResponse { ControlTime = now, PeersChangedPatch = [patch] };
        return _viewers
            .Where(v => v.Key != nodeId && v.Value.Peers.Contains(nodeId))
            .Select(v => new ViewerUpdate(v.Key, delta))
            .ToList();
    }

    /// <summary>A new policy: compiled once by the caller, then each viewer gets only its own difference.</summary>
    public IReadOnlyList<ViewerUpdate> SetPolicy(ITailnetPolicy policy, DateTimeOffset now)
    {
        _policy = policy;
        var updates = new List<ViewerUpdate>();
        var messages = new Dictionary<DeltaKey, MapResponse>();
        foreach (var (viewerId, viewer) in _viewers)
        {
            var self = _nodes[viewerId];
            // Differences only: what the viewer may see now and was not sent, and what it was sent and may no longer see.
            var added = VisiblePeers(self).Where(p => !viewer.Peers.Contains(p.Id)).ToList();
            var removed = viewer.Peers.Ids()
                .Where(id => !_nodes.TryGetValue(id, out var peer) || !_policy.CanSee(self, peer))
                .Order()
                .ToImmutableArray();
            var filter = _policy.PacketFilterFor(self);
            var ssh = _policy.SshPolicyFor(self);
            var filterChanged = !filter.Span.SequenceEqual(viewer.Filter.Span);
            var sshChanged = !ssh.Span.SequenceEqual(viewer.Ssh.Span);
            if (added.Count == 0 && removed.IsEmpty && !filterChanged && !sshChanged)
            {
                continue;
            }

            foreach (var id in removed)
            {
                viewer.Peers.Remove(id);
            }

            foreach (var peer in added)
            {
                viewer.Peers.Add(peer.Id);
            }

            viewer.Filter = filter;
            viewer.Ssh = ssh;
            var key = new DeltaKey(IdList(added.Select(p => p.Id)), IdList(removed), filterChanged ? filter : null, sshChanged ? ssh : null);
            if (!messages.TryGetValue(key, out var message))
            {
                messages[key] = message = new MapResponse
                {
                    ControlTime = now,
                    PeersChanged = added.Count > 0 ? added.OrderBy(p => p.Id).Select(p => PeerEntry(p, now)).ToImmutableArray() : null,
                    PeersRemoved = removed.IsEmpty ? null : removed,
                    PacketFilterRaw = filterChanged ? filter : (ReadOnlyMemory<byte>?)null,
                    SshPolicyRaw = sshChanged ? ssh : (ReadOnlyMemory<byte>?)null,
                    UserProfiles = added.Count > 0 ? Profiles(added) : null,
                };
            }

            updates.Add(new ViewerUpdate(viewerId, message));
        }

        return updates;
    }

    /// <summary>Renders a node for a viewer (self or peer) in the wire model.</summary>
    public MapNode Render(PeerView node, DateTimeOffset now, bool isSelf)
    {
        var primary = _primaries.PrefixesOf(node.Id).ToImmutableArray();
        var exits = node.ServedRoutes.Where(PeerView.IsExitRoute).ToList();
        var allowed = primary.IsEmpty && exits.Count == 0
            ? (ImmutableArray<string>?)null
            : node.Addresses.Concat(primary).Concat(exits).ToImmutableArray();
        return new MapNode
        {
            Id = node.Id,
            Name = _settings.Fqdn(node),
            User = node.UserId,
            Key = node.NodeKey,
            KeyExpiry = node.KeyExpiry,
            Machine = node.MachineKey,
            DiscoKey = node.DiscoKey,
            Addresses = node.Addresses,
            AllowedIPs = allowed,
            Endpoints = node.Endpoints,
            HomeDerp = node.HomeDerp,
            Hostinfo = node.Hostinfo,
            Created = node.Created,
            Tags = node.Tags,
            PrimaryRoutes = primary,
            Online = isSelf ? null : node.Online,
            LastSeen = isSelf || node.Online ? null : node.LastSeen,
            MachineAuthorized = !node.IsExpired(now),
            Expired = node.IsExpired(now),
            CapMap = isSelf ? SelfCapMap : default,
        };
    }

    private static readonly byte[] SelfCapMap =
        """{"https://tailscale.com/cap/is-admin":[],"https://tailscale.com/cap/ssh":[],"default-auto-update":[false]}"""u8.ToArray();

    /// <summary>
    /// The nodes <paramref name="self"/> may see, in the map's own order (the same for every viewer, so equal
    /// differences make equal keys); peer lists are sorted by id when they are written.
    /// </summary>
    private IEnumerable<PeerView> VisiblePeers(PeerView self) =>
        _nodes.Values.Where(n => n.Id != self.Id && _policy.CanSee(self, n));

    private IReadOnlyList<ViewerUpdate> Fanout(HashSet<long> changed, IReadOnlyCollection<long> removed, DateTimeOffset now, HashSet<long> selfChanged)
    {
        var updates = new List<ViewerUpdate>();
        // Each changed peer is rendered once, and viewers told the same thing share one message.
        var messages = new Dictionary<DeltaKey, MapResponse>();
        foreach (var (viewerId, viewer) in _viewers)
        {
            var self = _nodes[viewerId];
            var changedPeers = new List<MapNode>();
            var removedPeers = new List<long>();
            var newProfiles = new List<PeerView>();
            foreach (var id in changed)
            {
                if (id == viewerId || !_nodes.TryGetValue(id, out var peer))
                {
                    continue;
                }

                var visible = _policy.CanSee(self, peer);
                if (visible)
                {
                    // Every changed peer comes with its owner's profile, as Headscale sends it: the
                    // owner may be new to this viewer (a moved node) or renamed.
                    viewer.Peers.Add(id);
                    newProfiles.Add(peer);
                    changedPeers.Add(PeerEntry(peer, now));
                }
                else if (viewer.Peers.Remove(id))
                {
                    removedPeers.Add(id);
                }
            }

            foreach (var id in removed)
            {
                if (viewer.Peers.Remove(id))
                {
                    removedPeers.Add(id);
                }
            }

            var filter = _policy.PacketFilterFor(self);
            var filterChanged = !filter.Span.SequenceEqual(viewer.Filter.Span);
            viewer.Filter = filter;
            var selfUpdated = selfChanged.Contains(viewerId);
            if (changedPeers.Count == 0 && removedPeers.Count == 0 && !filterChanged && !selfUpdated)
            {
                continue;
            }

            removedPeers.Sort();
            var build = () => new MapResponse
            {
                ControlTime = now,
                Node = selfUpdated ? Render(self, now, isSelf: true) : null,
                PeersChanged = changedPeers.Count > 0 ? changedPeers.ToImmutableArray() : null,
                PeersRemoved = removedPeers.Count > 0 ? removedPeers.ToImmutableArray() : null,
                PacketFilterRaw = filterChanged ? filter : (ReadOnlyMemory<byte>?)null,
                UserProfiles = newProfiles.Count > 0 ? Profiles(newProfiles) : null,
            };
            if (selfUpdated)
            {
                // The self node is this viewer's own: a message of its own.
                updates.Add(new ViewerUpdate(viewerId, build()));
                continue;
            }

            var key = new DeltaKey(IdList(changedPeers.Select(p => p.Id)), IdList(removedPeers), filterChanged ? filter : null, null);
            if (!messages.TryGetValue(key, out var message))
            {
                messages[key] = message = build();
            }

            updates.Add(new ViewerUpdate(viewerId, message));
        }

        return updates;
    }

    /// <summary>The node's entry in peer lists, rendered once and reused until the node, its routes or the domain change.</summary>
    private MapNode PeerEntry(PeerView peer, DateTimeOffset now)
    {
        var expired = peer.IsExpired(now);
        if (_peerEntries.TryGetValue(peer.Id, out var entry) && entry.Expired == expired)
        {
            return entry.Node;
        }

        var node = Render(peer, now, isSelf: false);
        _peerEntries[peer.Id] = (node, expired);
        return node;
    }

    private void Forget(IEnumerable<long> nodeIds)
    {
        foreach (var id in nodeIds)
        {
            _peerEntries.Remove(id);
        }
    }

    private static string IdList(IEnumerable<long> ids) => string.Join(',', ids);

    /// <summary>
    /// What makes one viewer's delta differ from another's: the peers it lists and the filter and SSH
    /// bytes it carries (compared by content). Equal keys mean equal messages, so they share one.
    /// </summary>
    private readonly record struct DeltaKey(string Changed, string Removed, ReadOnlyMemory<byte>? Filter, ReadOnlyMemory<byte>? Ssh)
    {
        public bool Equals(DeltaKey other) =>
            Changed == other.Changed && Removed == other.Removed
            && SameBytes(Filter, other.Filter) && SameBytes(Ssh, other.Ssh);

        // By content: per-node filters often have equal lengths, and a policy change sees one key per viewer.
        public override int GetHashCode()
        {
            var hash = new HashCode();
            hash.Add(Changed);
            hash.Add(Removed);
            hash.AddBytes(Filter is { } filter ? filter.Span : []);
            hash.Add(Filter is null);
            hash.AddBytes(Ssh is { } ssh ? ssh.Span : []);
            hash.Add(Ssh is null);
            return hash.ToHashCode();
        }

        private static bool SameBytes(ReadOnlyMemory<byte>? a, ReadOnlyMemory<byte>? b) =>
            a is null ? b is null : b is not null && a.Value.Span.SequenceEqual(b.Value.Span);
    }

    private static ImmutableArray<UserProfile> Profiles(IEnumerable<PeerView> nodes) =>
        nodes.GroupBy(n => n.UserId)
            .OrderBy(g => g.Key)
            .Select(g => new UserProfile(g.Key, g.First().UserLogin, g.First().UserLogin))
            .ToImmutableArray();

    private static List<ViewerUpdate> Merge(List<ViewerUpdate> first, IReadOnlyList<ViewerUpdate> second)
    {
        // Two messages for one viewer are fine on the wire; keep order: online change first.
        first.AddRange(second);
        return first;
    }

    /// <summary>What a subscribed viewer has been sent, so the next message can be a difference.</summary>
    private sealed class Viewer(PeerIdSet peers, ReadOnlyMemory<byte> filter, ReadOnlyMemory<byte> ssh)
    {
        /// <summary>The peers this viewer has been sent: a bitset, since N viewers each hold up to N of them.</summary>
        public PeerIdSet Peers { get; } = peers;
        public ReadOnlyMemory<byte> Filter { get; set; } = filter;
        public ReadOnlyMemory<byte> Ssh { get; set; } = ssh;
    }
}
