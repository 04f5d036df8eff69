namespace Headscale.Protocol.Http2;

/// <summary>
/// The decoder's dynamic table (RFC 7541 §2.3.2, §4). Sized for many idle connections: nothing is allocated until
/// the first entry is added, and both stores grow on demand.
///
/// <code>
///  entries (ring, oldest at _first)     bytes (name then value of each entry, oldest first)
///  ┌────┬────┬────┬────┐                ┌──────────┬───────────────────────────┬────────┐
///  │ e3 │    │ e1 │ e2 │                │ evicted  │ e1 │ e2 │ e3              │  free  │
///  └────┴────┴────┴────┘                └──────────┴───────────────────────────┴────────┘
///                                                  _start                      _end
/// </code>
/// Eviction moves <c>_start</c>; adding appends at <c>_end</c>. When the tail has no room the live bytes slide to
/// the front (at most the table size, 4 KiB by default), or the buffer doubles, never beyond the table's largest
/// allowed size: name and value bytes are always less than the table size, which also counts 32 per entry. So
/// every entry stays contiguous and is handed out as a span without copying.
/// </summary>
internal sealed class HpackDynamicTable(int capacityLimit)
{
    private readonly int _capacityLimit = capacityLimit;

    /// <summary>RFC 7541 §4.1: each entry counts 32 bytes on top of its name and value.</summary>
    public const int EntryOverhead = 32;

    private const int InitialBytes = 256;
    private const int InitialEntries = 8;

    private byte[] _bytes = [];
    private int _start;
    private int _end;

    private (int Offset, int NameLength, int ValueLength)[] _entries = [];
    private int _first;

    /// <summary>Number of entries.</summary>
    public int Count { get; private set; }

    /// <summary>Size as RFC 7541 §4.1 counts it.</summary>
    public int Size { get; private set; }

    /// <summary>The current maximum size (set by dynamic table size updates).</summary>
    public int MaxSize { get; private set; } = capacityLimit;

    /// <summary>Bytes held by the table's stores (for tests of the lazy allocation).</summary>
    internal int AllocatedBytes => _bytes.Length + _entries.Length * 12;

    /// <summary>Name and value of the entry at a 1-based dynamic index (1 is the newest).</summary>
    public void Get(int index, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        var (offset, nameLength, valueLength) = _entries[(_first + Count - index) % _entries.Length];
        name = _bytes.AsSpan(offset, nameLength);
        value = _bytes.AsSpan(offset + nameLength, valueLength);
    }

    /// <summary>True when <paramref name="span"/> points into the table's byte store.</summary>
    public bool Holds(ReadOnlySpan<byte> span) => span.Overlaps(_bytes);

    public void SetMaxSize(int maxSize)
    {
        MaxSize = maxSize;
        EvictUntil(maxSize);
    }

    /// <summary>
    /// Adds an entry, evicting old ones first (§4.4); an entry larger than the maximum size empties the table.
    /// <paramref name="name"/> must not point into this table (eviction may overwrite it).
    /// </summary>
    public void Add(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        var size = name.Length + value.Length + EntryOverhead;
        if (size > MaxSize)
        {
            EvictUntil(0);
            return;
        }

        EvictUntil(MaxSize - size);
        var length = name.Length + value.Length;
        ReserveBytes(length);
        ReserveEntry();

        name.CopyTo(_bytes.AsSpan(_end));
        value.CopyTo(_bytes.AsSpan(_end + name.Length));
        _entries[(_first + Count) % _entries.Length] = (_end, name.Length, value.Length);
        _end += length;
        Count++;
        Size += size;
    }

    /// <summary>Evicts every entry (an entry too large to fit was added).</summary>
    public void Clear() => EvictUntil(0);

    private void EvictUntil(int size)
    {
        while (Size > size)
        {
            var (_, nameLength, valueLength) = _entries[_first];
            _first = (_first + 1) % _entries.Length;
            Count--;
            Size -= nameLength + valueLength + EntryOverhead;
            _start += nameLength + valueLength;
        }

        if (Count == 0)
        {
            _start = _end = _first = 0;
        }
    }

    private void ReserveBytes(int length)
    {
        if (_end + length <= _bytes.Length)
        {
            return;
        }

        var live = _end - _start;
        var bytes = _bytes;
        if (live + length > bytes.Length)
        {
            var grown = Math.Max(bytes.Length * 2, InitialBytes);
            while (grown < live + length)
            {
                grown *= 2;
            }

            bytes = new byte[Math.Min(grown, _capacityLimit)];
        }

        Buffer.BlockCopy(_bytes, _start, bytes, 0, live);
        for (var i = 0; i < Count; i++)
        {
            ref var entry = ref _entries[(_first + i) % _entries.Length];
            entry.Offset -= _start;
        }

        _bytes = bytes;
        _start = 0;
        _end = live;
    }

    private void ReserveEntry()
    {
        if (Count < _entries.Length)
        {
            return;
        }

        var grown = new (int, int, int)[Math.Max(_entries.Length * 2, InitialEntries)];
        for (var i = 0; i < Count; i++)
        {
            grown[i] = _entries[(_first + i) % _entries.Length];
        }

        _entries = grown;
        _first = 0;
    }
}
