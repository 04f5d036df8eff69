using System.Collections.Immutable;
using Akka.Actor;
using Akka.Hosting;
using Headscale.Actors.Hosting;
using Headscale.Actors.Identity;
using Headscale.Actors.PreAuthKeys.Messages;
using Headscale.Actors.Users;
using static Headscale.Actors.PreAuthKeys.Messages.PreAuthKeyCommands;
using static Headscale.Actors.PreAuthKeys.Messages.PreAuthKeyQueries;

namespace Headscale.Actors.PreAuthKeys;

/// <summary>What a new key should be. <paramref name="Expiration"/> is required (the CLI defaults to now + 1h).</summary>
public sealed record PreAuthKeySpec(UserId User, bool Reusable, bool Ephemeral, DateTimeOffset Expiration, ImmutableArray<string> Tags);

/// <summary>A key as admins see it: never the secret of a 0.28-form key.</summary>
public sealed record PreAuthKeyInfo(
    PreAuthKeyId Id,
    UserId User,
    string Key,
    bool Reusable,
    bool Ephemeral,
    bool Used,
    DateTimeOffset Expiration,
    DateTimeOffset CreatedAt,
    ImmutableArray<string> Tags)
{
    public static PreAuthKeyInfo From(PreAuthKey key) => new(
        key.Id, key.User, PreAuthKeyText.Display(key.Prefix, key.LegacyKey), key.Reusable, key.Ephemeral, key.Used,
        key.Expiration, key.CreatedAt, key.Tags);
}

/// <summary>The result of creating a key: <paramref name="FullKey"/> is the only time the secret is shown.</summary>
public sealed record CreatedPreAuthKey(CommandResult Result, PreAuthKeyInfo? Key, string FullKey);

/// <summary>Pre-auth keys for the management API and CLI.</summary>
public interface IPreAuthKeyService
{
    /// <summary>Creates a 0.28-form key for an existing user. BadRequest for bad tags or an unknown user.</summary>
    Task<CreatedPreAuthKey> CreateAsync(PreAuthKeySpec spec, DateTimeOffset now, Cause cause, CancellationToken cancellationToken);

    /// <summary>Stores a 0.27-form (48 hex digit) key as given, e.g. when migrating from Headscale.</summary>
    Task<CreatedPreAuthKey> ImportLegacyAsync(PreAuthKeySpec spec, string legacyKey, DateTimeOffset now, Cause cause, CancellationToken cancellationToken);

    Task<ImmutableArray<PreAuthKeyInfo>> ListAsync(UserId? user, CancellationToken cancellationToken);

    Task<CommandResult> ExpireAsync(PreAuthKeyId id, DateTimeOffset now, Cause cause, CancellationToken cancellationToken);
}

internal sealed class PreAuthKeyService(
    IRequiredActor<PreAuthKeyStoreSingleton> store,
    IUserService users,
    IIdAllocator ids,
    HeadscaleActorsOptions options) : IPreAuthKeyService
{
    public async Task<CreatedPreAuthKey> CreateAsync(PreAuthKeySpec spec, DateTimeOffset now, Cause cause, CancellationToken cancellationToken)
    {
        if (await CheckAsync(spec, cancellationToken) is { } problem)
        {
            return new CreatedPreAuthKey(problem, null, "");
        }

        var (prefix, secret, full) = PreAuthKeyText.Generate();
        var hash = BCrypt.Net.BCrypt.HashPassword(secret, options.Domain.BcryptWorkFactor);
        return await StoreAsync(spec, prefix, hash, "", full, now, cause, cancellationToken);
    }

    public async Task<CreatedPreAuthKey> ImportLegacyAsync(PreAuthKeySpec spec, string legacyKey, DateTimeOffset now, Cause cause, CancellationToken cancellationToken)
    {
        if (!PreAuthKeyText.TryParse(legacyKey, out _, out _, out var legacy) || legacy.Length == 0)
        {
            return new CreatedPreAuthKey(CommandResult.Fail(ResultCode.BadRequest, "a legacy pre-auth key is 48 hex digits"), null, "");
        }

        return await CheckAsync(spec, cancellationToken) is { } problem
            ? new CreatedPreAuthKey(problem, null, "")
            : await StoreAsync(spec, "", "", legacy, legacy, now, cause, cancellationToken);
    }

    public async Task<ImmutableArray<PreAuthKeyInfo>> ListAsync(UserId? user, CancellationToken cancellationToken)
    {
        var actor = await store.GetAsync(cancellationToken);
        var list = await actor.Ask<PreAuthKeyList>(new ListPreAuthKeys(user), options.Domain.AskTimeout, cancellationToken);
        return [.. list.Keys.Select(PreAuthKeyInfo.From)];
    }

    public async Task<CommandResult> ExpireAsync(PreAuthKeyId id, DateTimeOffset now, Cause cause, CancellationToken cancellationToken)
    {
        var actor = await store.GetAsync(cancellationToken);
        var reply = await actor.Ask<PreAuthKeyCommandResult>(new ExpirePreAuthKey(id, now, cause), options.Domain.AskTimeout, cancellationToken);
        return reply.Result;
    }

    private async Task<CommandResult?> CheckAsync(PreAuthKeySpec spec, CancellationToken cancellationToken)
    {
        if (PreAuthKeyStoreState.ValidateTags(spec.Tags) is { } tagProblem)
        {
            return CommandResult.Fail(ResultCode.BadRequest, tagProblem);
        }

        return await users.GetAsync(spec.User, cancellationToken) is null
            ? CommandResult.Fail(ResultCode.NotFound, Errors.UserNotFound)
            : null;
    }

    private async Task<CreatedPreAuthKey> StoreAsync(
        PreAuthKeySpec spec, string prefix, string hash, string legacy, string full, DateTimeOffset now, Cause cause, CancellationToken cancellationToken)
    {
        var id = new PreAuthKeyId(await ids.AllocateAsync(IdKind.PreAuthKey, cancellationToken));
        var actor = await store.GetAsync(cancellationToken);
        var reply = await actor.Ask<PreAuthKeyCommandResult>(
            new CreatePreAuthKey(id, spec.User, prefix, hash, legacy, spec.Reusable, spec.Ephemeral, spec.Expiration, spec.Tags, now, cause),
            options.Domain.AskTimeout,
            cancellationToken);
        return reply.Key is { } key && reply.Result.Succeeded
            ? new CreatedPreAuthKey(reply.Result, PreAuthKeyInfo.From(key), full)
            : new CreatedPreAuthKey(reply.Result, null, "");
    }
}
