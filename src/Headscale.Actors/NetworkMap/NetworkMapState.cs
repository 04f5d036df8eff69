using System.Collections.Immutable;
using Headscale.Protocol.Tailcfg;

namespace Headscale.Actors.NetworkMap;

/// <summary>A MapResponse for one subscribed viewer.</summary>
public readonly record struct ViewerUpdate(long ViewerId, MapResponse Response);

/// <summary>
/// The in-memory tailnet as one host's network map sees it, and the incremental computation of
/// what each subscribed viewer must be told. Not thread-safe: one actor owns it.
/// Node changes apply to the state at once and are told to viewers by <see cref="Flush"/>, which
/// sends everything recorded since the last flush as one message per viewer: a burst of changes
/// (a join storm, many nodes coming online) costs each viewer one pass and one message, not one per
/// change. The work of a flush is proportional to the subscribed viewers times the nodes that changed,
/// never to all pairs of nodes; only a policy change revisits every viewer's peer set. Each changed peer
/// is rendered once, and viewers that must be told the same thing get the same <see cref="MapResponse"/>
/// instance, so the network map can encode it once.
/// </summary>
public sealed class NetworkMapState(MapSettings settings, ITailnetPolicy policy)
{
    private readonly Dictionary<long, PeerView> _nodes = new();
    private readonly Dictionary<long, Viewer> _viewers = new();
    private readonly PrimaryRoutes _primaries = new();
    private readonly NodeSlots _slots = new();
    private readonly SortedSet<(DateTimeOffset At, long Id)> _pendingExpiries = new();
    private readonly PendingChanges _pending = new();
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
        var flushed = Flush(now);
        var previous = _settings;
        Settings = next;
        var dnsChanged = !ReferenceEquals(previous.Dns, next.Dns);
        var derpChanged = !previous.DerpMap.Span.SequenceEqual(next.DerpMap.Span);
        if (!dnsChanged && !derpChanged)
        {
            return flushed;
        }

        var delta = new MapResponse
        {
            ControlTime = now,
            DnsConfig = dnsChanged ? next.Dns : null,
            DerpMapRaw = derpChanged ? next.DerpMap : (ReadOnlyMemory<byte>?)null,
        };
        return [.. flushed, .. _viewers.Keys.Select(viewer => new ViewerUpdate(viewer, delta))];
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
        PeerIdSet? everyone = null;
        var sent = Visible(self, ref everyone);
        var peers = sent.Ids().Order().Select(id => _nodes[id]).ToList();

        var viewer = new Viewer(sent, _policy.PacketFilterFor(self), _policy.SshPolicyFor(self), _pending.Current);
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

    /// <summary>Whether changes wait for <see cref="Flush"/>.</summary>
    public bool HasPending => !_pending.IsEmpty;

    /// <summary>A node was added or changed (registration, hostinfo, routes, tags, expiry, rename).</summary>
    public void Upsert(PeerView node, DateTimeOffset now)
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
        _pending.MarkChanged(changed);
    }

    /// <summary>A node was deleted. Its slot is freed by the next flush, once every viewer has dropped it.</summary>
    public void Remove(long nodeId)
    {
        if (!_nodes.Remove(nodeId, out var gone))
        {
            return;
        }

        _viewers.Remove(nodeId);
        _peerEntries.Remove(nodeId);
        ForgetExpiry(gone);
        var changed = _primaries.Reelect(gone.ServedRoutes, _nodes);
        Forget(changed);
        _pending.MarkRemoved(nodeId);
        _pending.MarkChanged(changed);
    }

    /// <summary>When the next node key expires while nothing else changes; null when none will.</summary>
    public DateTimeOffset? NextExpiry => _pendingExpiries.Count > 0 ? _pendingExpiries.Min.At : null;

    /// <summary>
    /// Node keys whose expiry time has come: the node itself gets its self node (expired, so the client
    /// asks its user to log in again) and its peers get it as changed, marked expired, as Headscale does.
    /// Clients would also notice on their own clock; this makes it independent of their skew handling.
    /// </summary>
    public void ExpireDue(DateTimeOffset now)
    {
        var due = new HashSet<long>();
        while (_pendingExpiries.Count > 0 && _pendingExpiries.Min.At <= now)
        {
            var entry = _pendingExpiries.Min;
            _pendingExpiries.Remove(entry);
            due.Add(entry.Id);
        }

        _pending.MarkChanged(due);
    }

    private void ForgetExpiry(PeerView? node)
    {
        if (node?.KeyExpiry is { } expiry)
        {
            _pendingExpiries.Remove((expiry, node.Id));
        }
    }

    /// <summary>A node's map stream connected or ended: peers learn it through OnlineChange.</summary>
    public void SetOnline(long nodeId, bool online, DateTimeOffset now)
    {
        if (!_nodes.TryGetValue(nodeId, out var node) || node.Online == online)
        {
            return;
        }

        var updated = node with { Online = online, LastSeen = online ? node.LastSeen : now };
        _nodes[nodeId] = updated;
        // The node itself is in here too when it lost or won a seat: peers need its new AllowedIPs.
        var routeChanges = _primaries.Reelect(updated.ServedRoutes, _nodes);
        _peerEntries.Remove(nodeId);
        Forget(routeChanges);
        _pending.MarkOnline(nodeId, online, online ? null : now);
        _pending.MarkChanged(routeChanges);
    }

    /// <summary>Endpoints, disco key or home DERP changed (lite map updates): peers get a patch, nothing else.</summary>
    public void UpdateEndpoints(long nodeId, ImmutableArray<string> endpoints, string? discoKey, int homeDerp)
    {
        if (!_nodes.TryGetValue(nodeId, out var node))
        {
            return;
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
        if (patch.Endpoints is not null || patch.DiscoKey is not null || patch.DerpRegion != 0)
        {
            _pending.MarkPatch(patch);
        }
    }

    /// <summary>A new policy: compiled once by the caller, then each viewer gets only its own difference.</summary>
    public IReadOnlyList<ViewerUpdate> SetPolicy(ITailnetPolicy policy, DateTimeOffset now)
    {
        // What changed before is told under the policy it happened under, and the difference below starts from there.
        var updates = new List<ViewerUpdate>(Flush(now));
        _policy = policy;
        var messages = new Dictionary<DeltaKey, MapResponse>();
        PeerIdSet? everyone = null;
        foreach (var (viewerId, viewer) in _viewers)
        {
            var self = _nodes[viewerId];
            // Differences only, set against set: what the viewer may see now and was not sent, and what it was sent and may no longer see.
            var visible = Visible(self, ref everyone);
            var added = visible.Except(viewer.Peers).Where(id => id != viewerId).Order().Select(id => _nodes[id]).ToList();
            var removed = viewer.Peers.Except(visible).Order().ToImmutableArray();
            var filter = _policy.PacketFilterFor(self);
            var ssh = _policy.SshPolicyFor(self);
            var filterChanged = !filter.Span.SequenceEqual(viewer.Filter.Span);
            var sshChanged = !ssh.Span.SequenceEqual(viewer.Ssh.Span);
            if (added.Count == 0 && removed.IsEmpty && !filterChanged && !sshChanged)
            {
                continue;
            }

            viewer.Peers.CopyFrom(visible);
            viewer.Peers.Remove(viewerId);

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
    /// The nodes <paramref name="self"/> may see, as a set over slots (never itself, never a node deleted from the map).
    /// A policy that lets the viewer see everyone answers null; the set of all nodes is then built once per
    /// pass (<paramref name="everyone"/>, null until first needed) and copied.
    /// </summary>
    private PeerIdSet Visible(PeerView self, ref PeerIdSet? everyone)
    {
        var visible = _policy.VisibleSet(self, _nodes, _slots);
        if (visible is null)
        {
            visible = new PeerIdSet(_slots);
            visible.CopyFrom(everyone ??= Everyone());
        }
        else
        {
            // A deleted node keeps its slot until the next flush, and a policy compiled before may still list it.
            foreach (var id in _pending.Removed.Keys)
            {
                visible.Remove(id);
            }
        }

        visible.Remove(self.Id);
        return visible;
    }

    private PeerIdSet Everyone()
    {
        var all = new PeerIdSet(_slots);
        foreach (var id in _nodes.Keys)
        {
            all.Add(id);
        }

        return all;
    }


    /// <summary>
    /// Tells every subscribed viewer what changed since the last flush, in one message each: the peers it
    /// sees that changed (full entries), those it may no longer see or that were deleted, online edges and
    /// endpoint patches of peers it was sent, and its own node when that changed. What a viewer's full map
    /// already held (it subscribed after the change) is skipped. Viewers told the same thing share one
    /// message instance.
    /// </summary>
    public IReadOnlyList<ViewerUpdate> Flush(DateTimeOffset now)
    {
        if (_pending.IsEmpty)
        {
            return [];
        }

        var items = FlushItems.From(_pending);
        _pending.Clear();
        var updates = new List<ViewerUpdate>();
        var messages = new SharedMessages();
        var carried = new List<int>();
        foreach (var (viewerId, viewer) in _viewers)
        {
            var self = _nodes[viewerId];
            var selfUpdated = false;
            carried.Clear();
            for (var i = 0; i < items.Changed.Length; i++)
            {
                var (id, stamp) = items.Changed[i];
                if (stamp <= viewer.SubscribedAt || !_nodes.TryGetValue(id, out var peer))
                {
                    continue;
                }

                if (id == viewerId)
                {
                    selfUpdated = true;
                }
                else if (_policy.CanSee(self, peer))
                {
                    // Every changed peer comes with its owner's profile, as Headscale sends it: the
                    // owner may be new to this viewer (a moved node) or renamed.
                    viewer.Peers.Add(id);
                    carried.Add(i);
                }
                else if (viewer.Peers.Remove(id))
                {
                    carried.Add(-1 - i);
                }
            }

            for (var i = 0; i < items.Removed.Length; i++)
            {
                if (viewer.Peers.Remove(items.Removed[i].Id))
                {
                    carried.Add(items.RemovedBase + i);
                }
            }

            for (var i = 0; i < items.Online.Length; i++)
            {
                // Sent with a full entry too, which holds the same state: clients act on the edge.
                var (id, presence) = items.Online[i];
                if (presence.Stamp > viewer.SubscribedAt && id != viewerId && viewer.Peers.Contains(id))
                {
                    carried.Add(items.OnlineBase + i);
                }
            }

            for (var i = 0; i < items.Patches.Length; i++)
            {
                var (id, _, stamp, entryStamp) = items.Patches[i];
                if (stamp > viewer.SubscribedAt && entryStamp <= viewer.SubscribedAt && id != viewerId && viewer.Peers.Contains(id))
                {
                    carried.Add(items.PatchBase + i);
                }
            }

            if (selfUpdated)
            {
                // The self node is this viewer's own: a message of its own.
                updates.Add(new ViewerUpdate(viewerId, BuildDelta(items, carried, now, Render(self, now, isSelf: true))));
            }
            else if (carried.Count > 0)
            {
                updates.Add(new ViewerUpdate(viewerId, messages.GetOrAdd(carried, () => BuildDelta(items, carried, now, self: null))));
            }
        }

        foreach (var (id, _) in items.Removed)
        {
            // Every subscribed viewer has dropped it now; the slot can go to the next node.
            _slots.Release(id);
        }

        return updates;
    }

    /// <summary>
    /// One delta from the flush items a viewer gets: positions into <see cref="FlushItems"/> (changed peers,
    /// removed peers, online edges, patches, in that order); a negative position is a changed peer the viewer
    /// may no longer see, so it is removed.
    /// </summary>
    private MapResponse BuildDelta(FlushItems items, List<int> carried, DateTimeOffset now, MapNode? self)
    {
        var changed = new List<MapNode>();
        var owners = new List<PeerView>();
        var removed = new List<long>();
        var online = ImmutableDictionary.CreateBuilder<long, bool>();
        var patches = new SortedDictionary<long, PeerChange>();
        foreach (var position in carried)
        {
            if (position < 0)
            {
                removed.Add(items.Changed[-1 - position].Id);
            }
            else if (position < items.RemovedBase)
            {
                var peer = _nodes[items.Changed[position].Id];
                changed.Add(PeerEntry(peer, now));
                owners.Add(peer);
            }
            else if (position < items.OnlineBase)
            {
                removed.Add(items.Removed[position - items.RemovedBase].Id);
            }
            else if (position < items.PatchBase)
            {
                var (id, presence) = items.Online[position - items.OnlineBase];
                online[id] = presence.IsOnline;
                if (presence.LastSeen is { } seen)
                {
                    patches[id] = new PeerChange(id) { LastSeen = seen };
                }
            }
            else
            {
                var (id, patch, _, _) = items.Patches[position - items.PatchBase];
                patches[id] = patches.TryGetValue(id, out var lastSeen) ? patch with { LastSeen = lastSeen.LastSeen } : patch;
            }
        }

        removed.Sort();
        return new MapResponse
        {
            ControlTime = now,
            Node = self,
            PeersChanged = NullIfEmpty(changed),
            PeersRemoved = NullIfEmpty(removed),
            OnlineChange = online.Count > 0 ? online.ToImmutable() : null,
            PeersChangedPatch = patches.Count > 0 ? [.. patches.Values] : null,
            UserProfiles = owners.Count > 0 ? Profiles(owners) : null,
        };
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

    private static ImmutableArray<T>? NullIfEmpty<T>(List<T> items) => items.Count > 0 ? [.. items] : null;

    private static ImmutableArray<UserProfile> Profiles(IEnumerable<PeerView> nodes) =>
        nodes.GroupBy(n => n.UserId)
            .OrderBy(g => g.Key)
            .Select(g => new UserProfile(g.Key, g.First().UserLogin, g.First().UserLogin))
            .ToImmutableArray();

    /// <summary>What a subscribed viewer has been sent, so the next message can be a difference.</summary>
    private sealed class Viewer(PeerIdSet peers, ReadOnlyMemory<byte> filter, ReadOnlyMemory<byte> ssh, long subscribedAt)
    {
        /// <summary>The pending-change stamp at subscription: changes stamped up to it were in the full map.</summary>
        public long SubscribedAt { get; } = subscribedAt;

        /// <summary>The peers this viewer has been sent: a bitset, since N viewers each hold up to N of them.</summary>
        public PeerIdSet Peers { get; } = peers;
        public ReadOnlyMemory<byte> Filter { get; set; } = filter;
        public ReadOnlyMemory<byte> Ssh { get; set; } = ssh;
    }
}
