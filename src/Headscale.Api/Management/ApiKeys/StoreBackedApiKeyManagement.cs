using System.Globalization;
using Google.Protobuf.WellKnownTypes;
using Headscale.Management.V1;

namespace Headscale.Api.Management.ApiKeys;

/// <summary>
/// The four API-key methods, implemented here over <see cref="IApiKeyStore"/>: key generation
/// and hashing belong to this layer, only storage belongs to the domain.
/// </summary>
public sealed class StoreBackedApiKeyManagement(IApiKeyStore store, TimeProvider time, ApiKeyForm newKeyForm = ApiKeyForm.Legacy)
    : IApiKeyManagement
{
    public async Task<ManagementResult<CreateApiKeyResponse>> CreateApiKeyAsync(CreateApiKeyRequest request, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        // Headscale stores a missing expiration as the zero time, i.e. a key that is dead on
        // arrival. Refusing it is clearer than handing out a key that never works.
        if (request.Expiration is null)
        {
            return ManagementError.InvalidArgument("expiration is required");
        }

        var expiration = request.Expiration.ToDateTimeOffset();
        if (expiration <= now)
        {
            return ManagementError.InvalidArgument(
                $"expiration {expiration.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.FFFFFFF'Z'", CultureInfo.InvariantCulture)} is not in the future");
        }

        var key = ApiKeyCodec.Generate(newKeyForm);
        var added = await store.AddAsync(
            new NewApiKey(key.Prefix, ApiKeyHasher.Hash(key.Secret), expiration, now), cancellationToken);
        return added.Map(_ => new CreateApiKeyResponse { ApiKey = key.FullKey });
    }

    public async Task<ManagementResult<ExpireApiKeyResponse>> ExpireApiKeyAsync(ExpireApiKeyRequest request, CancellationToken cancellationToken)
    {
        if (!ApiKeyCodec.TryNormalizePrefix(request.Prefix, out var prefix, out var error))
        {
            return ManagementError.InvalidArgument(error);
        }

        var expired = await store.ExpireAsync(prefix, time.GetUtcNow(), cancellationToken);
        return expired.Map(_ => new ExpireApiKeyResponse());
    }

    public async Task<ManagementResult<ListApiKeysResponse>> ListApiKeysAsync(ListApiKeysRequest request, CancellationToken cancellationToken)
    {
        var listed = await store.ListAsync(cancellationToken);
        return listed.Map(keys =>
        {
            var response = new ListApiKeysResponse();
            response.ApiKeys.AddRange(keys.OrderBy(k => k.Id).Select(ToMessage));
            return response;
        });
    }

    public async Task<ManagementResult<DeleteApiKeyResponse>> DeleteApiKeyAsync(DeleteApiKeyRequest request, CancellationToken cancellationToken)
    {
        if (!ApiKeyCodec.TryNormalizePrefix(request.Prefix, out var prefix, out var error))
        {
            return ManagementError.InvalidArgument(error);
        }

        var deleted = await store.DeleteAsync(prefix, cancellationToken);
        return deleted.Map(_ => new DeleteApiKeyResponse());
    }

    private static ApiKey ToMessage(StoredApiKey key) => new()
    {
        Id = key.Id,
        Prefix = ApiKeyCodec.DisplayPrefix(key.Prefix),
        Expiration = key.Expiration is { } expiration ? Timestamp.FromDateTimeOffset(expiration) : null,
        CreatedAt = Timestamp.FromDateTimeOffset(key.CreatedAt),
        LastSeen = key.LastSeen is { } lastSeen ? Timestamp.FromDateTimeOffset(lastSeen) : null,
    };
}
