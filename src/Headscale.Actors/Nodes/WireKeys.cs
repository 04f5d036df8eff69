namespace Headscale.Actors.Nodes;

/// <summary>
/// A machine public key in its canonical text form <c>mkey:</c> + 64 lowercase hex digits. The
/// parser accepts upper-case hex but requires the exact prefix and length.
/// </summary>
public readonly record struct MachineKey(string Value)
{
    public const string Prefix = "mkey:";

    public static bool TryParse(string? text, out MachineKey key)
    {
        var ok = KeyText.TryCanonicalise(text, Prefix, out var canonical);
        key = new MachineKey(canonical);
        return ok;
    }

    public static MachineKey FromBytes(ReadOnlySpan<byte> raw) => new(KeyText.Format(Prefix, raw));

    public override string ToString() => Value;
}

/// <summary>A node (WireGuard) public key in its canonical text form <c>nodekey:</c> + 64 lowercase hex digits.</summary>
public readonly record struct NodeKey(string Value)
{
    public const string Prefix = "nodekey:";

    /// <summary>The all-zero key clients send as <c>OldNodeKey</c> when they have none.</summary>
    public static readonly NodeKey Zero = new(Prefix + new string('0', 64));

    public bool IsZero => Value == Zero.Value;

    public static bool TryParse(string? text, out NodeKey key)
    {
        var ok = KeyText.TryCanonicalise(text, Prefix, out var canonical);
        key = new NodeKey(canonical);
        return ok;
    }

    public static NodeKey FromBytes(ReadOnlySpan<byte> raw) => new(KeyText.Format(Prefix, raw));

    public override string ToString() => Value;
}

internal static class KeyText
{
    private const int HexLength = 64;

    public static bool TryCanonicalise(string? text, string prefix, out string canonical)
    {
        canonical = "";
        if (text is null || text.Length != prefix.Length + HexLength || !text.StartsWith(prefix, StringComparison.Ordinal))
        {
            return false;
        }

        var hex = text.AsSpan(prefix.Length);
        foreach (var c in hex)
        {
            if (!char.IsAsciiHexDigit(c))
            {
                return false;
            }
        }

        canonical = string.Concat(prefix, hex.ToString().ToLowerInvariant());
        return true;
    }

    public static string Format(string prefix, ReadOnlySpan<byte> raw)
    {
        if (raw.Length != 32)
        {
            throw new ArgumentException("a public key is 32 bytes", nameof(raw));
        }

        return prefix + Convert.ToHexStringLower(raw);
    }
}
