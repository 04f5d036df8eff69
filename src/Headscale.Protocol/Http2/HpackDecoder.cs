namespace Headscale.Protocol.Http2;

/// <summary>
/// Decodes HPACK header blocks (RFC 7541) for one HTTP/2 connection; owns the connection's dynamic table.
/// Not thread-safe: one connection decodes its blocks in order.
///
/// Memory: an idle decoder holds no buffers. The dynamic table allocates on its first entry and grows with use up
/// to <c>maxDynamicTableSize</c>; Huffman-coded strings are decoded into one scratch buffer that grows with the
/// largest field seen, up to the larger of the two limits. Fields that are not Huffman-coded are handed to the
/// handler as spans of the block or the tables, without copying.
/// </summary>
public sealed class HpackDecoder
{
    private readonly int _maxDynamicTableSize;
    private readonly int _maxHeaderListSize;
    private readonly int _scratchLimit;
    private readonly HpackDynamicTable _table;
    private byte[] _scratch = [];

    /// <param name="maxDynamicTableSize">
    /// The SETTINGS_HEADER_TABLE_SIZE this side announced: the largest size a table size update may set, and the
    /// table's size until the peer sends one.
    /// </param>
    /// <param name="maxHeaderListSize">
    /// The largest header list (RFC 7541 §4.1 sizes) passed to the handler; a larger one ends in
    /// <see cref="HpackHeaderListTooLargeException"/> after the block is decoded.
    /// </param>
    public HpackDecoder(int maxDynamicTableSize = 4096, int maxHeaderListSize = 64 * 1024)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(maxDynamicTableSize);
        ArgumentOutOfRangeException.ThrowIfNegative(maxHeaderListSize);
        _maxDynamicTableSize = maxDynamicTableSize;
        _maxHeaderListSize = maxHeaderListSize;
        _scratchLimit = Math.Max(maxDynamicTableSize, maxHeaderListSize);
        _table = new HpackDynamicTable(maxDynamicTableSize);
    }

    internal HpackDynamicTable DynamicTable => _table;

    internal int ScratchBytes => _scratch.Length;

    /// <summary>
    /// Decodes one complete header block (HEADERS + CONTINUATION payloads already joined) and calls handler.OnHeader
    /// for each field in order. Malformed input (bad index, truncated integer/string, integer overflow, bad Huffman
    /// (EOS symbol, padding > 7 bits or not all ones), table size update above the limit or not at the start of the
    /// block) throws HpackException with a message naming what is wrong. The dynamic table stays consistent
    /// across blocks. Header list size counted as RFC 7541 §4.1 (name + value + 32 per field).
    /// </summary>
    /// <remarks>
    /// A list over the limit does not stop decoding: the rest of the block still updates the dynamic table (later
    /// blocks depend on it), the handler sees no more fields, and <see cref="HpackHeaderListTooLargeException"/> is
    /// thrown at the end.
    /// </remarks>
    public void Decode(ReadOnlySpan<byte> block, IHpackHeaderHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        var position = 0;
        var listSize = 0L;
        var sawField = false;
        while (position < block.Length)
        {
            var first = block[position];
            if ((first & 0x80) != 0)
            {
                // §6.1 Indexed Header Field.
                var index = ReadInteger(block, ref position, 7);
                if (index == 0)
                {
                    throw new HpackException("indexed header field has index 0");
                }

                GetIndexed(index, out var name, out var value);
                Emit(name, value, handler, ref listSize);
                sawField = true;
            }
            else if ((first & 0xC0) == 0x40)
            {
                // §6.2.1 Literal Header Field with Incremental Indexing.
                DecodeLiteral(block, ref position, 6, indexed: true, handler, ref listSize);
                sawField = true;
            }
            else if ((first & 0xE0) == 0x20)
            {
                // §6.3 Dynamic Table Size Update: only before the first field of a block (§4.2).
                if (sawField)
                {
                    throw new HpackException("dynamic table size update after a header field");
                }

                var size = ReadInteger(block, ref position, 5);
                if (size > _maxDynamicTableSize)
                {
                    throw new HpackException(
                        $"dynamic table size update to {size} is above the limit of {_maxDynamicTableSize}");
                }

                _table.SetMaxSize(size);
            }
            else
            {
                // §6.2.2 Literal Header Field without Indexing (0000) and §6.2.3 Never Indexed (0001).
                DecodeLiteral(block, ref position, 4, indexed: false, handler, ref listSize);
                sawField = true;
            }
        }

        if (listSize > _maxHeaderListSize)
        {
            throw new HpackHeaderListTooLargeException(_maxHeaderListSize);
        }
    }

    private void DecodeLiteral(
        ReadOnlySpan<byte> block, ref int position, int prefixBits, bool indexed, IHpackHeaderHandler handler,
        ref long listSize)
    {
        var nameIndex = ReadInteger(block, ref position, prefixBits);
        var scratchUsed = 0;
        var oversized = false;
        ReadOnlySpan<byte> name;
        if (nameIndex == 0)
        {
            name = ReadString(block, ref position, ref scratchUsed, ref oversized);
        }
        else
        {
            GetIndexed(nameIndex, out name, out _);
        }

        var value = ReadString(block, ref position, ref scratchUsed, ref oversized);
        if (oversized)
        {
            // The name and value together are larger than both limits: the list is too large and, if indexed,
            // the entry empties the table (§4.4), so the bytes themselves are not needed.
            listSize = Math.Max(listSize, _maxHeaderListSize + 1L);
            if (indexed)
            {
                _table.Clear();
            }

            return;
        }

        Emit(name, value, handler, ref listSize);
        if (!indexed)
        {
            return;
        }

        if (_table.Holds(name) && name.Length + value.Length + HpackDynamicTable.EntryOverhead <= _table.MaxSize)
        {
            // The name refers to an entry this insertion may evict (§4.4): copy it out first.
            EnsureScratch(scratchUsed + name.Length);
            var copy = _scratch.AsSpan(scratchUsed, name.Length);
            name.CopyTo(copy);
            name = copy;
        }

        _table.Add(name, value);
    }

    private void Emit(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, IHpackHeaderHandler handler, ref long listSize)
    {
        listSize += name.Length + value.Length + HpackDynamicTable.EntryOverhead;
        if (listSize <= _maxHeaderListSize)
        {
            handler.OnHeader(name, value);
        }
    }

    private void GetIndexed(int index, out ReadOnlySpan<byte> name, out ReadOnlySpan<byte> value)
    {
        if (index <= HpackStaticTable.Count)
        {
            var entry = HpackStaticTable.Get(index);
            name = entry.Name;
            value = entry.Value;
            return;
        }

        if (index - HpackStaticTable.Count > _table.Count)
        {
            throw new HpackException(
                $"index {index} is past the static and dynamic tables ({HpackStaticTable.Count + _table.Count} entries)");
        }

        _table.Get(index - HpackStaticTable.Count, out name, out value);
    }

    private ReadOnlySpan<byte> ReadString(
        ReadOnlySpan<byte> block, scoped ref int position, scoped ref int scratchUsed, scoped ref bool oversized)
    {
        if (position >= block.Length)
        {
            throw new HpackException("header block ends before a string literal");
        }

        var huffman = (block[position] & 0x80) != 0;
        var length = ReadInteger(block, ref position, 7);
        if (length > block.Length - position)
        {
            throw new HpackException($"string literal of {length} bytes is truncated ({block.Length - position} left)");
        }

        var raw = block.Slice(position, length);
        position += length;
        if (!huffman)
        {
            return raw;
        }

        // At most 8 symbols per 5 bytes (the shortest code is 5 bits).
        var room = (int)Math.Min(length * 8L / 5, _scratchLimit - (long)scratchUsed);
        EnsureScratch(scratchUsed + room);
        var decoded = HpackHuffman.Decode(raw, _scratch.AsSpan(scratchUsed, room));
        if (decoded > room)
        {
            oversized = true;
            return default;
        }

        var result = _scratch.AsSpan(scratchUsed, decoded);
        scratchUsed += decoded;
        return result;
    }

    /// <summary>
    /// Grows the scratch buffer to at least <paramref name="needed"/> bytes (never above the limit). Spans already
    /// handed out keep the old buffer alive and unchanged, so nothing is copied.
    /// </summary>
    private void EnsureScratch(int needed)
    {
        if (needed <= _scratch.Length)
        {
            return;
        }

        var size = Math.Max(Math.Max(needed, _scratch.Length * 2), 64);
        _scratch = new byte[Math.Min(size, Math.Max(_scratchLimit, needed))];
    }

    /// <summary>
    /// Reads an integer with an N-bit prefix (§5.1) starting at <paramref name="position"/>; values above
    /// <see cref="int.MaxValue"/> are rejected.
    /// </summary>
    internal static int ReadInteger(ReadOnlySpan<byte> block, ref int position, int prefixBits)
    {
        if (position >= block.Length)
        {
            throw new HpackException("header block ends before an integer");
        }

        var mask = (1 << prefixBits) - 1;
        long value = block[position++] & mask;
        if (value < mask)
        {
            return (int)value;
        }

        var shift = 0;
        while (true)
        {
            if (position >= block.Length)
            {
                throw new HpackException("header block ends inside an integer");
            }

            if (shift > 28)
            {
                throw new HpackException("integer is larger than 2^31 - 1");
            }

            var next = block[position++];
            value += (long)(next & 0x7F) << shift;
            if (value > int.MaxValue)
            {
                throw new HpackException("integer is larger than 2^31 - 1");
            }

            if ((next & 0x80) == 0)
            {
                return (int)value;
            }

            shift += 7;
        }
    }
}
