using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Headscale.Api.Management.ApiKeys;

/// <summary>
/// Decides whether an <c>Authorization</c> header carries a valid, unexpired API key. The answer
/// is only yes or no: callers must not tell a client why a key was refused.
/// </summary>
public sealed class ApiKeyAuthenticator(IApiKeyStore store, TimeProvider time)
{
    private const string BearerScheme = "Bearer ";

    // bcrypt costs tens of milliseconds per check and Headplane polls several routes every few
    // seconds. A successful check is remembered as (stored hash, SHA-256 of the secret): the store
    // is still asked on every request, so expiry, deletion and re-keying take effect at once.
    private const int VerifiedCacheLimit = 1024;
    private readonly ConcurrentDictionary<(string Hash, string SecretDigest), byte> _verified = new();

    public async ValueTask<bool> IsAuthorizedAsync(string? authorizationHeader, CancellationToken cancellationToken)
    {
        if (authorizationHeader is null
            || !authorizationHeader.StartsWith(BearerScheme, StringComparison.OrdinalIgnoreCase)
            || !ApiKeyCodec.TryParse(authorizationHeader.AsSpan(BearerScheme.Length).Trim(), out var key))
        {
            return false;
        }

        var stored = await store.FindByPrefixAsync(key.Prefix, cancellationToken);
        if (stored is null || IsExpired(stored, time.GetUtcNow()))
        {
            return false;
        }

        var cacheKey = (stored.Hash, Digest(key.Secret));
        if (_verified.ContainsKey(cacheKey))
        {
            return true;
        }

        if (!ApiKeyHasher.Verify(key.Secret, stored.Hash))
        {
            return false;
        }

        if (_verified.Count >= VerifiedCacheLimit)
        {
            _verified.Clear();
        }

        _verified.TryAdd(cacheKey, 0);
        return true;
    }

    /// <summary>A key with no expiration counts as expired, as in Headscale.</summary>
    public static bool IsExpired(StoredApiKey key, DateTimeOffset now) =>
        key.Expiration is not { } expiration || expiration <= now;

    private static string Digest(string secret)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(Encoding.UTF8.GetBytes(secret), digest);
        return Convert.ToHexString(digest);
    }
}
