using System.Collections.Concurrent;
using Headscale.Derp.Keys;

namespace Headscale.Derp.Server;

/// <summary>
/// All local connections of one key. Duplicates stay open; the newest is active until one of them sends a frame,
/// then the last sender is active ("last writer is active", derp-protocol.md §4 and appendix).
/// Membership changes happen under the server's registry lock; <see cref="Active"/> is read lock-free.
/// </summary>
internal sealed class ClientSet
{
    private DerpServerConnection[] _connections = [];
    private DerpServerConnection? _active;
    private ConcurrentDictionary<DerpPublicKey, byte>? _sentTo;

    public DerpServerConnection Active => Volatile.Read(ref _active)!;

    public bool HasDuplicates => Volatile.Read(ref _connections).Length > 1;

    /// <summary>Keys this client has sent to: they get PeerGone when the last connection of this key goes.</summary>
    public IEnumerable<DerpPublicKey> SentTo => _sentTo?.Keys ?? (IEnumerable<DerpPublicKey>)[];

    /// <returns>True when this is the key's first connection.</returns>
    public bool Add(DerpServerConnection connection)
    {
        _connections = [.. _connections, connection];
        Volatile.Write(ref _active, connection);
        return _connections.Length == 1;
    }

    /// <returns>True when no connection of this key is left.</returns>
    public bool Remove(DerpServerConnection connection)
    {
        _connections = _connections.Where(c => c != connection).ToArray();
        if (_connections.Length == 0) return true;
        if (ReferenceEquals(Active, connection)) Volatile.Write(ref _active, _connections[^1]);
        return false;
    }

    public void NoteFrameFrom(DerpServerConnection connection)
    {
        if (!ReferenceEquals(Volatile.Read(ref _active), connection)) Volatile.Write(ref _active, connection);
    }

    public void NoteSentTo(in DerpPublicKey destination)
    {
        var sentTo = _sentTo ?? Interlocked.CompareExchange(ref _sentTo, new ConcurrentDictionary<DerpPublicKey, byte>(), null) ?? _sentTo;
        if (!sentTo.ContainsKey(destination)) sentTo.TryAdd(destination, 0);
    }

    public DerpServerConnection[] Snapshot() => Volatile.Read(ref _connections);
}
