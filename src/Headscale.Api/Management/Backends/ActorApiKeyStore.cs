using Headscale.Actors.ApiKeys;
using Headscale.Api.Management.ApiKeys;
using static Headscale.Actors.ApiKeys.ApiKeyCommands;

namespace Headscale.Api.Management.Backends;

/// <summary>API keys kept by the <see cref="ApiKeyDirectoryActor"/> singleton.</summary>
public sealed class ActorApiKeyStore(IApiKeyDirectory directory, ManagementCaller caller) : IApiKeyStore
{
    public async ValueTask<StoredApiKey?> FindByPrefixAsync(string prefix, CancellationToken cancellationToken) =>
        await directory.FindAsync(prefix, cancellationToken) is { } key ? ToStored(key) : null;

    public async ValueTask<ManagementResult<StoredApiKey>> AddAsync(NewApiKey key, CancellationToken cancellationToken) =>
        Map(await directory.CreateAsync(key.Prefix, key.Hash, key.Expiration, caller.Current, cancellationToken));

    public async ValueTask<ManagementResult<IReadOnlyList<StoredApiKey>>> ListAsync(CancellationToken cancellationToken) =>
        ManagementResult<IReadOnlyList<StoredApiKey>>.Success((await directory.ListAsync(cancellationToken)).Select(ToStored).ToList());

    public async ValueTask<ManagementResult<StoredApiKey>> ExpireAsync(string prefix, DateTimeOffset expiration, CancellationToken cancellationToken) =>
        Map(await directory.ExpireAsync(prefix, expiration, caller.Current, cancellationToken));

    public async ValueTask<ManagementResult<StoredApiKey>> DeleteAsync(string prefix, CancellationToken cancellationToken) =>
        Map(await directory.DeleteAsync(prefix, caller.Current, cancellationToken));

    private static ManagementResult<StoredApiKey> Map(ApiKeyResult result) => result.Code switch
    {
        ApiKeyResultCode.Ok => ToStored(result.Key!),
        ApiKeyResultCode.NotFound => ManagementError.NotFound(result.Message),
        ApiKeyResultCode.Conflict => ManagementError.AlreadyExists(result.Message),
        _ => ManagementError.InvalidArgument(result.Message),
    };

    private static StoredApiKey ToStored(ApiKeyRecord key) =>
        new(key.Id, key.Prefix, key.Hash, key.Expiration, key.CreatedAt, key.LastSeen);
}
