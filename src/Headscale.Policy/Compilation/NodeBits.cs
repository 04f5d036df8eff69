using System.Numerics;

namespace Headscale.Policy.Compilation;

/// <summary>
/// A fixed-size set of node indexes (positions in the snapshot). Rules keep their source and destination sets
/// in this form so that peer visibility is a handful of word-wise ORs per rule instead of a pairwise scan.
/// Only this assembly can change a set, and only while building it; sets handed out by
/// <see cref="TailnetIndex"/> and compiled rules are never modified afterwards.
/// </summary>
public sealed class NodeBits
{
    private readonly ulong[] _words;

    public NodeBits(int capacity)
    {
        Capacity = capacity;
        _words = new ulong[(capacity + 63) >> 6];
    }

    public int Capacity { get; }

    public static NodeBits All(int capacity)
    {
        var bits = new NodeBits(capacity);
        for (var i = 0; i < capacity; i++) bits.Add(i);
        return bits;
    }

    internal void Add(int index) => _words[index >> 6] |= 1UL << (index & 63);

    public bool Contains(int index) => (_words[index >> 6] & (1UL << (index & 63))) != 0;

    internal void UnionWith(NodeBits other)
    {
        for (var i = 0; i < _words.Length; i++) _words[i] |= other._words[i];
    }

    public NodeBits Intersect(NodeBits other)
    {
        var result = new NodeBits(Capacity);
        for (var i = 0; i < _words.Length; i++) result._words[i] = _words[i] & other._words[i];
        return result;
    }

    public bool IsEmpty
    {
        get
        {
            foreach (var w in _words) if (w != 0) return false;
            return true;
        }
    }

    public int Count
    {
        get
        {
            var n = 0;
            foreach (var w in _words) n += BitOperations.PopCount(w);
            return n;
        }
    }

    /// <summary>The set as 64-bit words: bit <c>i % 64</c> of word <c>i / 64</c> is node index <c>i</c>.</summary>
    public ReadOnlySpan<ulong> Words => _words;

    public IEnumerable<int> Indexes()
    {
        for (var i = 0; i < _words.Length; i++)
        {
            var w = _words[i];
            while (w != 0)
            {
                var bit = BitOperations.TrailingZeroCount(w);
                yield return (i << 6) + bit;
                w &= w - 1;
            }
        }
    }
}
