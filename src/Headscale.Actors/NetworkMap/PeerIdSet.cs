namespace Headscale.Actors.NetworkMap;

/// <summary>
/// Dense slots for the node ids of one network map, so per-viewer peer sets can be bitsets: node ids are
/// allocated by the registry and need not be dense, slots are. A slot is freed when its node leaves the map
/// (after every viewer has dropped it) and reused by the next node. Not thread-safe: one actor owns it.
/// </summary>
public sealed class NodeSlots
{
    private readonly Dictionary<long, int> _slotOf = new();
    private readonly List<long> _idOf = new();
    private readonly Stack<int> _free = new();

    public int SlotOf(long id)
    {
        if (_slotOf.TryGetValue(id, out var slot))
        {
            return slot;
        }

        if (_free.TryPop(out slot))
        {
            _idOf[slot] = id;
        }
        else
        {
            slot = _idOf.Count;
            _idOf.Add(id);
        }

        _slotOf[id] = slot;
        return slot;
    }

    public bool TryGetSlot(long id, out int slot) => _slotOf.TryGetValue(id, out slot);

    /// <summary>Slots handed out so far (free ones included): every slot is below this.</summary>
    public int Count => _idOf.Count;

    public long IdOf(int slot) => _idOf[slot];

    /// <summary>Changes whenever a slot is freed (and may go to another node): a cached id-to-slot mapping is stale then.</summary>
    public int Generation { get; private set; }

    /// <summary>Frees the node's slot; no peer set may still hold it.</summary>
    public void Release(long id)
    {
        if (_slotOf.Remove(id, out var slot))
        {
            _free.Push(slot);
            Generation++;
        }
    }
}

/// <summary>
/// A viewer's set of peer ids as a bitset over <see cref="NodeSlots"/>: one bit per node of the tailnet
/// (1,250 bytes per viewer at 10,000 nodes) instead of a hash set entry per peer (≈40 bytes each).
/// </summary>
public sealed class PeerIdSet(NodeSlots slots)
{
    private ulong[] _bits = [];

    /// <summary>Words the set has now (for tests: it is sized to the slots in use, not to a power of two).</summary>
    internal int Words => _bits.Length;

    /// <summary>
    /// Grows to hold <paramref name="word"/>: to the slots in use plus a sixteenth for nodes still to come. Doubling
    /// would leave most sets (one per viewer, every one as large as the tailnet) up to half empty: 1 KiB instead of
    /// 0.6 KiB each at 5,000 nodes.
    /// </summary>
    private void GrowFor(int word)
    {
        var slotWords = (slots.Count + 63) >> 6;
        Array.Resize(ref _bits, Math.Max(word + 1, slotWords + (slotWords >> 4)));
    }

    public bool Contains(long id) =>
        slots.TryGetSlot(id, out var slot) && slot >> 6 < _bits.Length && (_bits[slot >> 6] & (1UL << slot)) != 0;

    /// <summary>Adds the id; returns false if it was already in the set.</summary>
    public bool Add(long id)
    {
        var slot = slots.SlotOf(id);
        var word = slot >> 6;
        if (word >= _bits.Length)
        {
            GrowFor(word);
        }

        var before = _bits[word];
        _bits[word] = before | (1UL << slot);
        return before != _bits[word];
    }

    /// <summary>Removes the id; returns false if it was not in the set.</summary>
    public bool Remove(long id)
    {
        if (!Contains(id))
        {
            return false;
        }

        var slot = slots.SlotOf(id);
        _bits[slot >> 6] &= ~(1UL << slot);
        return true;
    }

    public void Clear() => Array.Clear(_bits);

    /// <summary>Adds a node by its slot (callers that already hold slots skip the id lookup).</summary>
    public void AddSlot(int slot)
    {
        var word = slot >> 6;
        if (word >= _bits.Length)
        {
            GrowFor(word);
        }

        _bits[word] |= 1UL << slot;
    }

    /// <summary>Adds the slots set in <paramref name="bits"/> as word <paramref name="word"/> (slots <c>64 * word</c> on).</summary>
    public void AddWord(int word, ulong bits)
    {
        if (word >= _bits.Length)
        {
            GrowFor(word);
        }

        _bits[word] |= bits;
    }

    /// <summary>The ids in this set and not in <paramref name="other"/> (word by word, in slot order).</summary>
    public List<long> Except(PeerIdSet other)
    {
        var ids = new List<long>();
        for (var word = 0; word < _bits.Length; word++)
        {
            var bits = _bits[word] & ~(word < other._bits.Length ? other._bits[word] : 0UL);
            while (bits != 0)
            {
                ids.Add(slots.IdOf((word << 6) + System.Numerics.BitOperations.TrailingZeroCount(bits)));
                bits &= bits - 1;
            }
        }

        return ids;
    }

    /// <summary>Makes this set equal to <paramref name="other"/> (same slots).</summary>
    public void CopyFrom(PeerIdSet other)
    {
        if (_bits.Length < other._bits.Length)
        {
            _bits = new ulong[other._bits.Length];
        }

        Array.Clear(_bits);
        other._bits.CopyTo(_bits, 0);
    }

    public IEnumerable<long> Ids()
    {
        for (var word = 0; word < _bits.Length; word++)
        {
            var bits = _bits[word];
            while (bits != 0)
            {
                var bit = System.Numerics.BitOperations.TrailingZeroCount(bits);
                yield return slots.IdOf((word << 6) + bit);
                bits &= bits - 1;
            }
        }
    }
}
