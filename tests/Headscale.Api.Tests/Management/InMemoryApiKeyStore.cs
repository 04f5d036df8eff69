using System.Collections.Concurrent;
using Headscale.Api.Management;
using Headscale.Api.Management.ApiKeys;

namespace Headscale.Api.Tests.Management;

/// <summary>Test-only <see cref="IApiKeyStore"/>; the real one belongs to the domain layer.</summary>
internal sealed class InMemoryApiKeyStore : IApiKeyStore
{
    private readonly ConcurrentDictionary<string, StoredApiKey> _byPrefix = new(StringComparer.Ordinal);
    private long _nextId;

    /// <summary>
    /// bcrypt at the lowest cost, for keys that tests plant: verification reads the cost from the
    /// hash, so the production path is exercised at a fraction of the time (cost 10 is tested apart).
    /// </summary>
    public static string CheapHash(string secret) => BCrypt.Net.BCrypt.HashPassword(secret, 4);

    public ValueTask<StoredApiKey?> FindByPrefixAsync(string prefix, CancellationToken cancellationToken)
    {
        return ValueTask.FromResult(_byPrefix.GetValueOrDefault(prefix));
    }

    public ValueTask<ManagementResult<StoredApiKey>> AddAsync(NewApiKey key, CancellationToken cancellationToken)
    {
        var stored = new StoredApiKey((ulong)Interlocked.Increment(ref _nextId), key.Prefix, key.Hash, key.Expiration, key.CreatedAt, null);
        return ValueTask.FromResult(_byPrefix.TryAdd(key.Prefix, stored)
            ? ManagementResult<StoredApiKey>.Success(stored)
            : ManagementError.AlreadyExists($"api key prefix {key.Prefix} exists"));
    }

    /// <summary>Puts a row as the domain would hold it, e.g. with a chosen expiry.</summary>
    public StoredApiKey Put(string prefix, string hash, DateTimeOffset? expiration, DateTimeOffset createdAt)
    {
        var stored = new StoredApiKey((ulong)Interlocked.Increment(ref _nextId), prefix, hash, expiration, createdAt, null);
        _byPrefix[prefix] = stored;
        return stored;
    }

    public ValueTask<ManagementResult<IReadOnlyList<StoredApiKey>>> ListAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult(ManagementResult<IReadOnlyList<StoredApiKey>>.Success(_byPrefix.Values.ToList()));

    public ValueTask<ManagementResult<StoredApiKey>> ExpireAsync(string prefix, DateTimeOffset expiration, CancellationToken cancellationToken)
    {
        if (!_byPrefix.TryGetValue(prefix, out var stored))
        {
            return ValueTask.FromResult<ManagementResult<StoredApiKey>>(ManagementError.NotFound("api key not found"));
        }

        var expired = stored with { Expiration = expiration };
        _byPrefix[prefix] = expired;
        return ValueTask.FromResult(ManagementResult<StoredApiKey>.Success(expired));
    }

    public ValueTask<ManagementResult<StoredApiKey>> DeleteAsync(string prefix, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_byPrefix.TryRemove(prefix, out var removed)
            ? ManagementResult<StoredApiKey>.Success(removed)
            : ManagementError.NotFound("api key not found"));
}
