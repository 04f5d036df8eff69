using Headscale.Derp.Keys;

namespace Headscale.Derp.Server;

/// <summary>
/// Which owner (node) each admitted DERP key belongs to and until when, so that a change to that owner revokes exactly
/// the keys it no longer holds: the owner deleted, its key rotated, its key expired (logout is an expiry in the past).
/// Owner states are ordered by a version (the owner's journal sequence number): an older copy arriving late is ignored.
/// The latest known state of each owner is kept, so an admission decided on data older than a change already seen is
/// refused instead of slipping past the revocation. Thread-safe; no clock of its own: callers pass <c>now</c>.
/// </summary>
public sealed class DerpAdmissionLedger
{
    private readonly Lock _lock = new();
    private readonly Dictionary<DerpPublicKey, Admission> _admitted = new();
    private readonly Dictionary<ulong, HashSet<DerpPublicKey>> _keysByOwner = new();
    private readonly Dictionary<ulong, OwnerState> _owners = new();
    private DateTimeOffset? _nextExpiry;

    /// <summary>Keys currently recorded as admitted (connected or not); for tests and metrics.</summary>
    public int Count
    {
        get
        {
            lock (_lock) return _admitted.Count;
        }
    }

    /// <summary>The earliest expiry among admitted keys, or null when none expires.</summary>
    public DateTimeOffset? NextExpiry
    {
        get
        {
            lock (_lock) return _nextExpiry;
        }
    }

    /// <summary>
    /// Records that <paramref name="key"/> of <paramref name="owner"/> (valid until <paramref name="expiry"/>, null = never)
    /// was admitted. False when the ledger already knows a newer state of the owner that does not allow the key.
    /// </summary>
    public bool Admit(DerpPublicKey key, ulong owner, DateTimeOffset? expiry, DateTimeOffset now)
    {
        lock (_lock)
        {
            if (_owners.TryGetValue(owner, out var known))
            {
                if (known.Key is not { } current || current != key) return false;
                expiry = known.Expiry;
            }
            if (expiry is { } at && at <= now) return false;
            Forget(key);
            _admitted[key] = new Admission(owner, expiry);
            if (!_keysByOwner.TryGetValue(owner, out var keys)) _keysByOwner[owner] = keys = [];
            keys.Add(key);
            if (expiry is { } e && (_nextExpiry is null || e < _nextExpiry)) _nextExpiry = e;
            return true;
        }
    }

    /// <summary>
    /// Applies the state of <paramref name="owner"/> at <paramref name="version"/>: its current key (null once deleted) and
    /// expiry. Returns the admitted keys that are no longer valid; they are forgotten. A version not newer than the last
    /// one seen changes nothing.
    /// </summary>
    public IReadOnlyList<DerpPublicKey> OwnerChanged(ulong owner, long version, DerpPublicKey? currentKey, DateTimeOffset? expiry, DateTimeOffset now)
    {
        lock (_lock)
        {
            if (_owners.TryGetValue(owner, out var known) && version <= known.Version) return [];
            _owners[owner] = new OwnerState(version, currentKey, expiry);
            if (!_keysByOwner.TryGetValue(owner, out var keys)) return [];

            var expired = expiry is { } at && at <= now;
            var revoked = new List<DerpPublicKey>();
            foreach (var key in keys)
            {
                if (expired || currentKey is not { } current || current != key) revoked.Add(key);
                else _admitted[key] = new Admission(owner, expiry);
            }
            foreach (var key in revoked) Forget(key);
            RecomputeNextExpiry();
            return revoked;
        }
    }

    /// <summary>Forgets and returns every admitted key whose expiry is at or before <paramref name="now"/>.</summary>
    public IReadOnlyList<DerpPublicKey> TakeExpired(DateTimeOffset now)
    {
        lock (_lock)
        {
            if (_nextExpiry is not { } next || next > now) return [];
            var expired = _admitted.Where(a => a.Value.Expiry is { } at && at <= now).Select(a => a.Key).ToList();
            foreach (var key in expired) Forget(key);
            RecomputeNextExpiry();
            return expired;
        }
    }

    private void Forget(DerpPublicKey key)
    {
        if (!_admitted.Remove(key, out var admission)) return;
        if (_keysByOwner.TryGetValue(admission.Owner, out var keys) && keys.Remove(key) && keys.Count == 0)
            _keysByOwner.Remove(admission.Owner);
    }

    private void RecomputeNextExpiry()
    {
        DateTimeOffset? next = null;
        foreach (var admission in _admitted.Values)
            if (admission.Expiry is { } at && (next is null || at < next)) next = at;
        _nextExpiry = next;
    }

    private readonly record struct Admission(ulong Owner, DateTimeOffset? Expiry);

    private readonly record struct OwnerState(long Version, DerpPublicKey? Key, DateTimeOffset? Expiry);
}
