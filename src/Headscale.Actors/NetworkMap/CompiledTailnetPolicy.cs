using System.Collections.Immutable;
using System.Net;
using System.Text.Json;
using Headscale.Policy;
using Headscale.Policy.Snapshot;

namespace Headscale.Actors.NetworkMap;

/// <summary>
/// A parsed policy compiled over the network map's current nodes. Each viewer's peer set, filter
/// and SSH policy are computed on first use and cached, so a viewer costs its own rules once, and
/// the JSON bytes are shared by every message that carries them. Not thread-safe: the network map that compiled it
/// (one actor) is its only user.
/// </summary>
public sealed class CompiledTailnetPolicy : ITailnetPolicy
{
    private readonly CompiledPolicy _compiled;
    private readonly Dictionary<long, Headscale.Policy.Compilation.NodeBits> _peers = new();
    private readonly Dictionary<long, ReadOnlyMemory<byte>> _filters = new();
    private readonly Dictionary<long, ReadOnlyMemory<byte>> _ssh = new();

    /// <summary>Each compiled node's position in the snapshot, which is what the peer sets are over.</summary>
    private readonly Dictionary<ulong, int> _indexOf;

    /// <summary>
    /// Snapshot positions translated to the map's slots, built on first use and again whenever the map frees a slot,
    /// which may then belong to another node. One network map uses one instance.
    /// </summary>
    private SlotTranslation? _slotOf;

    private CompiledTailnetPolicy(CompiledPolicy compiled)
    {
        _compiled = compiled;
        _indexOf = new Dictionary<ulong, int>(compiled.Index.Nodes.Length);
        for (var i = 0; i < compiled.Index.Nodes.Length; i++)
        {
            _indexOf[compiled.Index.Nodes[i].Id] = i;
        }
    }

    public static CompiledTailnetPolicy Compile(ParsedPolicy policy, IEnumerable<PeerView> nodes, string controlUrl) =>
        new(CompiledPolicy.Compile(policy, Snapshot(nodes), controlUrl));

    /// <summary>The policy engine's view of the tailnet. Users without an e-mail are keyed <c>name@</c>, which is how policies name them.</summary>
    public static TailnetSnapshot Snapshot(IEnumerable<PeerView> nodes)
    {
        var list = nodes.OrderBy(n => n.Id).ToList();
        var users = list
            .GroupBy(n => n.UserId)
            .Select(g => new TailnetUser((ulong)g.Key, NameOf(g.First().UserLogin), EmailOf(g.First().UserLogin)))
            .ToImmutableArray();
        var tailnetNodes = list.Select(n => new TailnetNode(
            (ulong)n.Id,
            n.GivenName,
            n.Tags.IsDefaultOrEmpty ? EmailOf(n.UserLogin) : null,
            n.Tags.IsDefault ? [] : n.Tags,
            Address(n, System.Net.Sockets.AddressFamily.InterNetwork),
            Address(n, System.Net.Sockets.AddressFamily.InterNetworkV6),
            Prefixes(n.AnnouncedRoutes),
            Prefixes(n.ApprovedRoutes),
            n.Id)).ToImmutableArray();
        return new TailnetSnapshot(users, tailnetNodes, []);
    }

    /// <summary>
    /// Whether two views of a node are the same to the policy: everything <see cref="Snapshot"/> reads
    /// (name, owner, tags, addresses, announced and approved routes). Hostinfo, endpoints, online state,
    /// last seen and key expiry are not, so a compiled policy stays valid across changes of those.
    /// </summary>
    public static bool SameInputs(PeerView a, PeerView b) =>
        a.Id == b.Id
        && a.GivenName == b.GivenName
        && a.UserId == b.UserId
        && a.UserLogin == b.UserLogin
        && Same(a.Tags, b.Tags)
        && Same(a.Addresses, b.Addresses)
        && Same(a.AnnouncedRoutes, b.AnnouncedRoutes)
        && Same(a.ApprovedRoutes, b.ApprovedRoutes);

    private static bool Same(ImmutableArray<string> a, ImmutableArray<string> b) =>
        a.IsDefaultOrEmpty ? b.IsDefaultOrEmpty : !b.IsDefault && a.SequenceEqual(b, StringComparer.Ordinal);

    public bool CanSee(PeerView viewer, PeerView peer) =>
        _indexOf.TryGetValue((ulong)peer.Id, out var index) && PeersOf(viewer) is { } peers && peers.Contains(index);

    /// <summary>The viewer's peers translated from snapshot positions to map slots: one pass over its peers, no pairwise checks.</summary>
    public PeerIdSet? VisibleSet(PeerView viewer, IReadOnlyDictionary<long, PeerView> nodes, NodeSlots slots)
    {
        var visible = new PeerIdSet(slots);
        if (PeersOf(viewer) is not { } peers)
        {
            return visible;
        }

        if (_slotOf is not { } translation || translation.Generation != slots.Generation)
        {
            _slotOf = translation = SlotTranslation.Build(_compiled.Index.Nodes, nodes, slots);
        }

        var words = peers.Words;
        for (var word = 0; word < words.Length; word++)
        {
            var bits = words[word];
            if (bits == 0)
            {
                continue;
            }

            if (translation.IsIdentity(word))
            {
                visible.AddWord(word, bits);
                continue;
            }

            do
            {
                var slot = translation.Slots[(word << 6) + System.Numerics.BitOperations.TrailingZeroCount(bits)];
                if (slot >= 0)
                {
                    visible.AddSlot(slot);
                }

                bits &= bits - 1;
            }
            while (bits != 0);
        }

        return visible;
    }

    /// <summary>
    /// The map's slot of each snapshot position (-1: deleted since the compile). Where a block of 64 positions sits in
    /// the slots of the same numbers (nodes joined the map in id order), a viewer's peer word is copied as it is.
    /// </summary>
    private sealed class SlotTranslation(int generation, int[] slots, bool[] identityWords)
    {
        public int Generation { get; } = generation;

        public int[] Slots { get; } = slots;

        public bool IsIdentity(int word) => identityWords[word];

        public static SlotTranslation Build(
            System.Collections.Immutable.ImmutableArray<TailnetNode> positions, IReadOnlyDictionary<long, PeerView> nodes, NodeSlots slots)
        {
            var slotOf = new int[positions.Length];
            var identity = new bool[(positions.Length + 63) >> 6];
            Array.Fill(identity, true);
            for (var i = 0; i < positions.Length; i++)
            {
                var id = (long)positions[i].Id;
                slotOf[i] = nodes.ContainsKey(id) ? slots.SlotOf(id) : -1;
                if (slotOf[i] != i)
                {
                    identity[i >> 6] = false;
                }
            }

            return new SlotTranslation(slots.Generation, slotOf, identity);
        }
    }

    /// <summary>Null for a node the compile did not know (it joined since): it sees nobody until the next compile.</summary>
    private Headscale.Policy.Compilation.NodeBits? PeersOf(PeerView viewer) =>
        Known(viewer.Id) ? Cached(_peers, viewer.Id, id => _compiled.PeerBits((ulong)id)) : null;

    public ReadOnlyMemory<byte> PacketFilterFor(PeerView node) =>
        Cached(_filters, node.Id, id => Known(id)
            ? JsonSerializer.SerializeToUtf8Bytes(_compiled.PacketFilter((ulong)id), WireJsonContext.Default.ImmutableArrayFilterRule)
            : "[]"u8.ToArray());

    public ReadOnlyMemory<byte> SshPolicyFor(PeerView node) =>
        Cached(_ssh, node.Id, id =>
        {
            var rules = Known(id) ? JsonSerializer.Serialize(_compiled.SshRules((ulong)id), WireJsonContext.Default.ImmutableArraySshRule) : "[]";
            return System.Text.Encoding.UTF8.GetBytes($$"""{"rules":{{rules}}}""");
        });

    private static T Cached<T>(Dictionary<long, T> cache, long id, Func<long, T> compute)
    {
        if (!cache.TryGetValue(id, out var value))
        {
            value = compute(id);
            cache.Add(id, value);
        }

        return value;
    }

    private bool Known(long id) => _indexOf.ContainsKey((ulong)id);

    private static string NameOf(string login) => login.Contains('@') ? login[..login.IndexOf('@')] : login;

    private static string EmailOf(string login) => login.Contains('@') ? login : login + "@";

    private static IPAddress? Address(PeerView node, System.Net.Sockets.AddressFamily family) =>
        node.Addresses
            .Select(a => IPNetwork.TryParse(a, out var p) ? p.BaseAddress : IPAddress.TryParse(a, out var ip) ? ip : null)
            .FirstOrDefault(ip => ip?.AddressFamily == family);

    private static ImmutableArray<IPNetwork> Prefixes(ImmutableArray<string> routes) =>
        routes.IsDefaultOrEmpty ? [] : [.. routes.Select(r => IPNetwork.TryParse(r, out var p) ? (IPNetwork?)p : null).OfType<IPNetwork>()];
}
