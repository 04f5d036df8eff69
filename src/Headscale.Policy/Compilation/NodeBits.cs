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

    /// <summary>The indexes in the set, ascending; <c>foreach</c> over it allocates nothing and makes no interface calls.</summary>
    public IndexEnumerable Indexes() => new(_words);

    internal void Remove(int index) => _words[index >> 6] &= ~(1UL << (index & 63));

    public readonly struct IndexEnumerable(ulong[] words) : IEnumerable<int>
    {
        public IndexEnumerator GetEnumerator() => new(words);

        IEnumerator<int> IEnumerable<int>.GetEnumerator() => GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    public struct IndexEnumerator(ulong[] words) : IEnumerator<int>
    {
        private int _word = -1;
        private ulong _rest;

        public int Current { get; private set; }

        readonly object System.Collections.IEnumerator.Current => Current;

        public bool MoveNext()
        {
            while (_rest == 0)
            {
                if (++_word >= words.Length)
                {
                    return false;
                }

                _rest = words[_word];
            }

            Current = (_word << 6) + BitOperations.TrailingZeroCount(_rest);
            _rest &= _rest - 1;
            return true;
        }

        public void Reset()
        {
            _word = -1;
            _rest = 0;
        }

        public readonly void Dispose()
        {
        }
    }
}
