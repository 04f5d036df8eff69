namespace Headscale.Api.Management.ApiKeys;

/// <summary>bcrypt over the secret part of a key (never the prefix), as Headscale stores it.</summary>
public static class ApiKeyHasher
{
    /// <summary>Headscale uses Go's bcrypt default cost; hashes it wrote verify here and the other way round.</summary>
    public const int WorkFactor = 10;

    public static string Hash(string secret) => BCrypt.Net.BCrypt.HashPassword(secret, WorkFactor);

    /// <summary>False for a wrong secret and for a stored hash that is not a bcrypt hash.</summary>
    public static bool Verify(string secret, string hash)
    {
        if (!LooksLikeBcrypt(hash))
        {
            return false;
        }

        try
        {
            return BCrypt.Net.BCrypt.Verify(secret, hash);
        }
        catch (BCrypt.Net.SaltParseException)
        {
            return false;
        }
    }

    /// <summary>Modular crypt form <c>$2?$NN$</c> + 53 characters; BCrypt.Net throws on anything shorter.</summary>
    private static bool LooksLikeBcrypt(string hash) =>
        hash.Length == 60
        && hash.StartsWith("$2", StringComparison.Ordinal)
        && hash[3] == '$'
        && char.IsAsciiDigit(hash[4]) && char.IsAsciiDigit(hash[5])
        && hash[6] == '$';
}
