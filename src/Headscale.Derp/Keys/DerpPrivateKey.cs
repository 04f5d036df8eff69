using System.Security.Cryptography;

namespace Headscale.Derp.Keys;

/// <summary>
/// A Curve25519 private key (the DERP server key, or a client's node key in tests and benchmarks).
/// Text form is <c>privkey:&lt;64 hex&gt;</c>, the format headscale stores in <c>derp_server_private.key</c>.
/// </summary>
public sealed class DerpPrivateKey
{
    public const string TextPrefix = "privkey:";
    private readonly byte[] _bytes;

    private DerpPrivateKey(byte[] bytes)
    {
        _bytes = bytes;
        PublicKey = NaclBox.DerivePublicKey(bytes);
    }

    public DerpPublicKey PublicKey { get; }

    internal ReadOnlySpan<byte> Bytes => _bytes;

    public static DerpPrivateKey Generate()
    {
        var bytes = RandomNumberGenerator.GetBytes(32);
        // X25519 clamping, so the stored form equals what every implementation uses.
        bytes[0] &= 248;
        bytes[31] &= 127;
        bytes[31] |= 64;
        return new DerpPrivateKey(bytes);
    }

    public static DerpPrivateKey FromBytes(ReadOnlySpan<byte> bytes)
    {
        if (bytes.Length != 32)
            throw new ArgumentException($"A private key is 32 bytes, got {bytes.Length}.", nameof(bytes));
        return new DerpPrivateKey(bytes.ToArray());
    }

    /// <summary>Parses <c>privkey:&lt;64 hex&gt;</c> (surrounding whitespace allowed).</summary>
    public static DerpPrivateKey Parse(string text)
    {
        var span = text.AsSpan().Trim();
        if (!span.StartsWith(TextPrefix, StringComparison.Ordinal))
            throw new FormatException($"A private key must start with '{TextPrefix}'.");
        span = span[TextPrefix.Length..];
        if (span.Length != 64)
            throw new FormatException($"A private key has 64 hex characters after '{TextPrefix}', got {span.Length}.");
        try
        {
            return new DerpPrivateKey(Convert.FromHexString(span));
        }
        catch (FormatException)
        {
            throw new FormatException("A private key must be hexadecimal after 'privkey:'.");
        }
    }

    public string ToText() => TextPrefix + Convert.ToHexStringLower(_bytes);

    /// <summary>Loads the key from <paramref name="path"/>, creating the file with a new key (mode 0600) if it does not exist.</summary>
    public static DerpPrivateKey LoadOrCreate(string path)
    {
        if (File.Exists(path))
            return Parse(File.ReadAllText(path));
        var key = Generate();
        var directory = Path.GetDirectoryName(Path.GetFullPath(path));
        if (!string.IsNullOrEmpty(directory)) Directory.CreateDirectory(directory);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        using (var stream = new FileStream(path, options))
        using (var writer = new StreamWriter(stream))
            writer.Write(key.ToText());
        return key;
    }

    public override string ToString() => "privkey:<redacted>";
}
