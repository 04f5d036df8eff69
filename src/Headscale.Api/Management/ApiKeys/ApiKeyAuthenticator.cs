using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Headscale.Api.Management.ApiKeys;

/// <summary>Outcome of checking an <c>Authorization</c> header; only <see cref="Valid"/> admits.</summary>
public enum ApiKeyCheck
{
    Valid,
    Missing,
    Malformed,
    UnknownPrefix,
    Expired,
    WrongSecret,
}

/// <summary>
/// Decides whether an <c>Authorization</c> header carries a valid, unexpired API key. The reason
/// for a refusal is for the server's log only: clients must not learn it.
/// </summary>
public sealed class ApiKeyAuthenticator(IApiKeyStore store, TimeProvider time)
{
    private const string BearerScheme = "Bearer ";

    // bcrypt costs tens of milliseconds per check and Headplane polls several routes every few
    // seconds. A successful check is remembered as (stored hash, SHA-256 of the secret): the store
    // is still asked on every request, so expiry, deletion and re-keying take effect at once.
    private const int VerifiedCacheLimit = 1024;
    private readonly ConcurrentDictionary<(string Hash, string SecretDigest), byte> _verified = new();

    public async ValueTask<ApiKeyCheck> CheckAsync(string? authorizationHeader, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(authorizationHeader))
        {
            return ApiKeyCheck.Missing;
        }

        if (!authorizationHeader.StartsWith(BearerScheme, StringComparison.OrdinalIgnoreCase)
            || !ApiKeyCodec.TryParse(authorizationHeader.AsSpan(BearerScheme.Length).Trim(), out var key))
        {
            return ApiKeyCheck.Malformed;
        }

        var stored = await store.FindByPrefixAsync(key.Prefix, cancellationToken);
        if (stored is null)
        {
            return ApiKeyCheck.UnknownPrefix;
        }

        if (IsExpired(stored, time.GetUtcNow()))
        {
            return ApiKeyCheck.Expired;
        }

        var cacheKey = (stored.Hash, Digest(key.Secret));
        if (_verified.ContainsKey(cacheKey))
        {
            return ApiKeyCheck.Valid;
        }

        if (!ApiKeyHasher.Verify(key.Secret, stored.Hash))
        {
            return ApiKeyCheck.WrongSecret;
        }

        if (_verified.Count >= VerifiedCacheLimit)
        {
            _verified.Clear();
        }

        _verified.TryAdd(cacheKey, 0);
        return ApiKeyCheck.Valid;
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
