namespace Headscale.Protocol.Http2;

/// <summary>
/// The Huffman code of RFC 7541 Appendix B. The code is canonical, so the table below holds only the code length
/// of each symbol (0–255, then EOS as 256); the codes are generated from the lengths at startup.
///
/// Decoding runs a nibble state machine built once from the code tree: a state is an internal node of the tree
/// (256 of them, the root is 0), and for every state and 4-bit input there is one precomputed step — the next
/// state, the symbol completed on the way (a nibble is shorter than the shortest code, so at most one), or a
/// failure when the EOS code is completed. A string may end only in a state whose path from the root is all
/// ones and at most 7 bits long (§5.2: padding is the most significant bits of EOS, shorter than a byte).
/// </summary>
internal static class HpackHuffman
{
    public const int Eos = 256;

    private const int SymbolCount = 257;
    private const int StateCount = 256;

    // Step layout: bits 0–7 next state, bits 8–15 symbol, bit 16 symbol emitted, bit 17 EOS reached.
    private const uint Emit = 1u << 16;
    private const uint Fail = 1u << 17;

    // RFC 7541 Appendix B, code lengths in bits for symbols 0–255 and EOS.
    private static ReadOnlySpan<byte> Lengths =>
    [
        13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
        28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
        6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
        5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
        13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
        7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
        15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
        6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
        20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
        24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
        22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
        21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
        26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
        19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
        20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
        26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
        30,
    ];

    private static readonly uint[] CodeTable = BuildCodes();
    private static readonly bool[] Accepting = new bool[StateCount];
    private static readonly uint[] Steps = BuildSteps(Accepting);

    /// <summary>The code of a symbol, right-aligned in <see cref="CodeLength"/> bits.</summary>
    public static uint Code(int symbol) => CodeTable[symbol];

    public static int CodeLength(int symbol) => Lengths[symbol];

    /// <summary>Bytes needed to Huffman-code <paramref name="source"/> (the last byte padded with ones).</summary>
    public static int EncodedLength(ReadOnlySpan<byte> source)
    {
        long bits = 0;
        foreach (var b in source)
        {
            bits += Lengths[b];
        }

        return (int)((bits + 7) / 8);
    }

    /// <summary>Huffman-codes <paramref name="source"/>; returns bytes written or -1 when it does not fit.</summary>
    public static int Encode(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        ulong pending = 0;
        var pendingBits = 0;
        var written = 0;
        foreach (var b in source)
        {
            pending = (pending << Lengths[b]) | CodeTable[b];
            pendingBits += Lengths[b];
            while (pendingBits >= 8)
            {
                if (written == destination.Length)
                {
                    return -1;
                }

                pendingBits -= 8;
                destination[written++] = (byte)(pending >> pendingBits);
            }
        }

        if (pendingBits > 0)
        {
            if (written == destination.Length)
            {
                return -1;
            }

            destination[written++] = (byte)((pending << (8 - pendingBits)) | (0xFFu >> pendingBits));
        }

        return written;
    }

    /// <summary>
    /// Decodes <paramref name="source"/> into <paramref name="destination"/>. Returns the decoded length, which may
    /// exceed <paramref name="destination"/>'s length: symbols past its end are counted and checked but not
    /// stored. Throws <see cref="HpackException"/> on the EOS symbol or bad padding.
    /// </summary>
    public static int Decode(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        var steps = Steps;
        var state = 0u;
        var written = 0;
        foreach (var b in source)
        {
            var step = steps[(state << 4) | (uint)(b >> 4)];
            if ((step & (Emit | Fail)) != 0)
            {
                Put(step, destination, ref written);
            }

            step = steps[((step & 0xFF) << 4) | (uint)(b & 0xF)];
            if ((step & (Emit | Fail)) != 0)
            {
                Put(step, destination, ref written);
            }

            state = step & 0xFF;
        }

        if (!Accepting[state])
        {
            throw new HpackException("Huffman string has padding longer than 7 bits or padding that is not all ones");
        }

        return written;
    }

    private static void Put(uint step, Span<byte> destination, ref int written)
    {
        if ((step & Fail) != 0)
        {
            throw new HpackException("Huffman string contains the EOS symbol");
        }

        if (written < destination.Length)
        {
            destination[written] = (byte)(step >> 8);
        }

        written++;
    }

    private static uint[] BuildCodes()
    {
        // Canonical code: symbols ordered by (length, symbol) get consecutive codes, shifted left whenever the
        // length grows.
        var order = new int[SymbolCount];
        for (var i = 0; i < SymbolCount; i++)
        {
            order[i] = i;
        }

        var lengths = Lengths.ToArray();
        Array.Sort(order, (a, b) => lengths[a] != lengths[b] ? lengths[a].CompareTo(lengths[b]) : a.CompareTo(b));
        var codes = new uint[SymbolCount];
        var code = 0u;
        var previousLength = lengths[order[0]];
        foreach (var symbol in order)
        {
            code <<= lengths[symbol] - previousLength;
            previousLength = lengths[symbol];
            codes[symbol] = code++;
        }

        return codes;
    }

    private static uint[] BuildSteps(bool[] accepting)
    {
        // The code tree: children[2 * node + bit] is an internal node id, or ~symbol for a leaf.
        var children = new int[StateCount * 2];
        var depth = new int[StateCount];
        var allOnes = new bool[StateCount];
        allOnes[0] = true;
        var nodes = 1;
        for (var symbol = 0; symbol < SymbolCount; symbol++)
        {
            var node = 0;
            var length = Lengths[symbol];
            for (var i = length - 1; i > 0; i--)
            {
                var bit = (int)(CodeTable[symbol] >> i) & 1;
                if (children[2 * node + bit] == 0)
                {
                    depth[nodes] = depth[node] + 1;
                    allOnes[nodes] = allOnes[node] && bit == 1;
                    children[2 * node + bit] = nodes++;
                }

                node = children[2 * node + bit];
            }

            children[2 * node + (int)(CodeTable[symbol] & 1)] = ~symbol;
        }

        if (nodes != StateCount)
        {
            throw new InvalidOperationException($"Huffman tree has {nodes} internal nodes, expected {StateCount}");
        }

        for (var state = 0; state < StateCount; state++)
        {
            accepting[state] = allOnes[state] && depth[state] <= 7;
        }

        var steps = new uint[StateCount * 16];
        for (var state = 0; state < StateCount; state++)
        {
            for (var nibble = 0; nibble < 16; nibble++)
            {
                var node = state;
                var step = 0u;
                for (var i = 3; i >= 0; i--)
                {
                    var child = children[2 * node + ((nibble >> i) & 1)];
                    if (child >= 0)
                    {
                        node = child;
                        continue;
                    }

                    node = 0;
                    step = ~child == Eos ? Fail : Emit | ((uint)~child << 8);
                    if (~child == Eos)
                    {
                        break;
                    }
                }

                steps[state * 16 + nibble] = step | (uint)node;
            }
        }

        return steps;
    }
}
