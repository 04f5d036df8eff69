namespace Headscale.Api.Management.ApiKeys;

/// <summary>An API key as stored: the prefix in clear, the secret only as a bcrypt hash.</summary>
/// <param name="Expiration">Null means never set, which (as in Headscale) counts as expired.</param>
public sealed record StoredApiKey(
    ulong Id,
    string Prefix,
    string Hash,
    DateTimeOffset? Expiration,
    DateTimeOffset CreatedAt,
    DateTimeOffset? LastSeen);

/// <summary>What CreateApiKey asks the store to keep; the store assigns the id.</summary>
public sealed record NewApiKey(string Prefix, string Hash, DateTimeOffset Expiration, DateTimeOffset CreatedAt);

/// <summary>
/// Persistence of API keys, implemented by the domain layer. Authentication only needs
/// <see cref="FindByPrefixAsync"/>; the management methods need the rest. Prefixes are unique.
/// </summary>
public interface IApiKeyStore
{
    /// <summary>The key with this stored prefix, or null. Called on every authenticated request.</summary>
    ValueTask<StoredApiKey?> FindByPrefixAsync(string prefix, CancellationToken cancellationToken);

    /// <summary>Stores a new key; AlreadyExists when the prefix is taken.</summary>
    ValueTask<ManagementResult<StoredApiKey>> AddAsync(NewApiKey key, CancellationToken cancellationToken);

    ValueTask<ManagementResult<IReadOnlyList<StoredApiKey>>> ListAsync(CancellationToken cancellationToken);

    /// <summary>Sets the expiration; NotFound for an unknown prefix.</summary>
    ValueTask<ManagementResult<StoredApiKey>> ExpireAsync(string prefix, DateTimeOffset expiration, CancellationToken cancellationToken);

    /// <summary>Removes the key; NotFound for an unknown prefix.</summary>
    ValueTask<ManagementResult<StoredApiKey>> DeleteAsync(string prefix, CancellationToken cancellationToken);
}

/// <summary>
/// The store registered until the domain provides one: it knows no keys (so every remote call
/// is refused and only the local unix socket works) and refuses writes as Unimplemented.
/// </summary>
public sealed class UnavailableApiKeyStore : IApiKeyStore
{
    private static ManagementError NotYet(string what) => ManagementError.Unimplemented($"API key storage ({what})");

    public ValueTask<StoredApiKey?> FindByPrefixAsync(string prefix, CancellationToken cancellationToken) => ValueTask.FromResult<StoredApiKey?>(null);

    public ValueTask<ManagementResult<StoredApiKey>> AddAsync(NewApiKey key, CancellationToken cancellationToken) => ValueTask.FromResult<ManagementResult<StoredApiKey>>(NotYet("create"));

    public ValueTask<ManagementResult<IReadOnlyList<StoredApiKey>>> ListAsync(CancellationToken cancellationToken) => ValueTask.FromResult<ManagementResult<IReadOnlyList<StoredApiKey>>>(NotYet("list"));

    public ValueTask<ManagementResult<StoredApiKey>> ExpireAsync(string prefix, DateTimeOffset expiration, CancellationToken cancellationToken) => ValueTask.FromResult<ManagementResult<StoredApiKey>>(NotYet("expire"));

    public ValueTask<ManagementResult<StoredApiKey>> DeleteAsync(string prefix, CancellationToken cancellationToken) => ValueTask.FromResult<ManagementResult<StoredApiKey>>(NotYet("delete"));
}
