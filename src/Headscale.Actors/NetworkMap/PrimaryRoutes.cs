namespace Headscale.Actors.NetworkMap;

/// <summary>
/// Primary subnet router election: for each prefix served by online nodes, one node is primary.
/// The lowest node id wins an open seat; a sitting primary keeps it while it stays online (no
/// flapping back), and the seat moves when it goes offline or stops serving. Exit routes are not
/// elected: every exit node is offered.
/// </summary>
public sealed class PrimaryRoutes
{
    private readonly Dictionary<string, long> _primaryByPrefix = new(StringComparer.Ordinal);

    public long? PrimaryFor(string prefix) => _primaryByPrefix.TryGetValue(prefix, out var id) ? id : null;

    public IEnumerable<string> PrefixesOf(long nodeId) =>
        _primaryByPrefix.Where(p => p.Value == nodeId).Select(p => p.Key).OrderBy(p => p, StringComparer.Ordinal);

    /// <summary>
    /// Re-elects the given prefixes from the current node set; returns the ids of nodes whose set
    /// of primary prefixes changed (they and their viewers need new AllowedIPs).
    /// </summary>
    public HashSet<long> Reelect(IEnumerable<string> prefixes, IReadOnlyDictionary<long, PeerView> nodes)
    {
        var changed = new HashSet<long>();
        foreach (var prefix in prefixes.Where(p => !PeerView.IsExitRoute(p)).Distinct(StringComparer.Ordinal))
        {
            var current = PrimaryFor(prefix);
            long? next = current is { } id && nodes.TryGetValue(id, out var sitting) && Serves(sitting, prefix)
                ? id
                : nodes.Values.Where(n => Serves(n, prefix)).Select(n => (long?)n.Id).Min();

            if (next == current)
            {
                continue;
            }

            if (current is { } previous)
            {
                changed.Add(previous);
            }

            if (next is { } elected)
            {
                _primaryByPrefix[prefix] = elected;
                changed.Add(elected);
            }
            else
            {
                _primaryByPrefix.Remove(prefix);
            }
        }

        return changed;
    }

    private static bool Serves(PeerView node, string prefix) =>
        node.Online && node.ServedRoutes.Contains(prefix, StringComparer.Ordinal);
}
