using Google.Protobuf.WellKnownTypes;
using Headscale.Actors.PreAuthKeys;
using Headscale.Actors.Users;
using Headscale.Management.V1;

namespace Headscale.Api.Management.Backends;

/// <summary>Pre-auth keys over the key store singleton, in Headscale 0.27's request shapes.</summary>
public sealed class ActorPreAuthKeyManagement(IPreAuthKeyService keys, IUserService users, TimeProvider time, ManagementCaller caller) : IPreAuthKeyManagement
{
    public async Task<ManagementResult<CreatePreAuthKeyResponse>> CreatePreAuthKeyAsync(CreatePreAuthKeyRequest request, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        // Headscale stores the zero time when no expiration is given, which counts as expired;
        // refusing it here is clearer than handing out a key that can never be used.
        if (request.Expiration is null)
        {
            return ManagementError.InvalidArgument("expiration is required");
        }

        var spec = new PreAuthKeySpec(new UserId(request.User), request.Reusable, request.Ephemeral, request.Expiration.ToDateTimeOffset(), [.. request.AclTags]);
        var created = await keys.CreateAsync(spec, now, caller.Current, cancellationToken);
        if (created.Key is not { } key || !created.Result.Succeeded)
        {
            return ResultMapping.ToError(created.Result);
        }

        var user = await users.GetAsync(key.User, cancellationToken);
        var proto = ToProto(key, user);
        proto.Key = created.FullKey;
        return new CreatePreAuthKeyResponse { PreAuthKey = proto };
    }

    public async Task<ManagementResult<ExpirePreAuthKeyResponse>> ExpirePreAuthKeyAsync(ExpirePreAuthKeyRequest request, CancellationToken cancellationToken)
    {
        var listed = await keys.ListAsync(new UserId(request.User), cancellationToken);
        var key = listed.FirstOrDefault(k => k.Key == request.Key || (request.Key.Length > 0 && request.Key.StartsWith(k.Key.TrimEnd('*').TrimEnd('-'), StringComparison.Ordinal)));
        if (key is null)
        {
            return ManagementError.NotFound(ManagementErrors.RecordNotFound);
        }

        var result = await keys.ExpireAsync(key.Id, time.GetUtcNow(), caller.Current, cancellationToken);
        return result.Succeeded ? new ExpirePreAuthKeyResponse() : ResultMapping.ToError(result);
    }

    public async Task<ManagementResult<ListPreAuthKeysResponse>> ListPreAuthKeysAsync(ListPreAuthKeysRequest request, CancellationToken cancellationToken)
    {
        // 0.27 fails a list without a user; Headplane relies on that to fall back to one call per user.
        if (request.User == 0)
        {
            return ManagementError.Unknown(ManagementErrors.RecordNotFound);
        }

        var user = await users.GetAsync(new UserId(request.User), cancellationToken);
        if (user is null)
        {
            return ManagementError.Unknown(ManagementErrors.RecordNotFound);
        }

        var response = new ListPreAuthKeysResponse();
        response.PreAuthKeys.AddRange((await keys.ListAsync(user.Id, cancellationToken)).OrderBy(k => k.Id.Value).Select(k => ToProto(k, user)));
        return response;
    }

    internal static PreAuthKey ToProto(PreAuthKeyInfo key, Headscale.Actors.Users.Messages.User? user)
    {
        var proto = new PreAuthKey
        {
            Id = key.Id.Value,
            Key = key.Key,
            Reusable = key.Reusable,
            Ephemeral = key.Ephemeral,
            Used = key.Used,
            Expiration = Timestamp.FromDateTimeOffset(key.Expiration),
            CreatedAt = Timestamp.FromDateTimeOffset(key.CreatedAt),
            User = user is null ? null : ActorUserManagement.ToProto(user),
        };
        proto.AclTags.AddRange(key.Tags.IsDefault ? [] : key.Tags);
        return proto;
    }
}
