using System.Security.Cryptography;
using NSec.Cryptography;

namespace Headscale.Api.Hosting;

/// <summary>
/// An X25519 private key kept in a file in Tailscale's text form <c>privkey:&lt;64 hex&gt;</c>
/// (the Noise key and the DERP key). Created with mode 0600 when missing; a file that exists but
/// does not hold a valid key is an error, never silently replaced.
/// </summary>
public sealed class PrivateKeyFile
{
    public const string PrivatePrefix = "privkey:";

    private PrivateKeyFile(byte[] privateKey, byte[] publicKey)
    {
        PrivateKey = privateKey;
        PublicKey = publicKey;
    }

    public byte[] PrivateKey { get; }

    public byte[] PublicKey { get; }

    public static PrivateKeyFile LoadOrCreate(string path)
    {
        if (File.Exists(path))
        {
            return Load(path);
        }

        var directory = Path.GetDirectoryName(path);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        var key = RandomNumberGenerator.GetBytes(32);
        Clamp(key);
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var writer = new StreamWriter(path, options))
        {
            writer.Write(Format(key));
        }

        return new PrivateKeyFile(key, DerivePublic(key));
    }

    public static PrivateKeyFile Load(string path)
    {
        var text = File.ReadAllText(path).Trim();
        if (!TryParse(text, out var key))
        {
            throw new InvalidDataException(
                $"private key file '{path}' is corrupt: expected '{PrivatePrefix}' followed by 64 hex digits. " +
                "Restore it from a backup; deleting it makes every client re-authenticate.");
        }

        return new PrivateKeyFile(key, DerivePublic(key));
    }

    public static string Format(ReadOnlySpan<byte> key) => PrivatePrefix + Convert.ToHexStringLower(key);

    public static bool TryParse(string text, out byte[] key)
    {
        key = [];
        if (!text.StartsWith(PrivatePrefix, StringComparison.Ordinal) || text.Length != PrivatePrefix.Length + 64)
        {
            return false;
        }

        try
        {
            key = Convert.FromHexString(text.AsSpan(PrivatePrefix.Length));
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    public static byte[] Generate()
    {
        var key = RandomNumberGenerator.GetBytes(32);
        Clamp(key);
        return key;
    }

    private static void Clamp(Span<byte> key)
    {
        key[0] &= 248;
        key[31] = (byte)((key[31] & 127) | 64);
    }

    private static byte[] DerivePublic(byte[] privateKey)
    {
        using var key = Key.Import(KeyAgreementAlgorithm.X25519, privateKey, KeyBlobFormat.RawPrivateKey);
        return key.PublicKey.Export(KeyBlobFormat.RawPublicKey);
    }
}
