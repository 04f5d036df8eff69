using System.Collections.Immutable;
using Akka.Actor;
using Akka.Hosting;
using Headscale.Actors.Hosting;
using Headscale.Actors.Identity;
using Headscale.Actors.Nodes;
using Headscale.Actors.Nodes.Messages;
using Headscale.Actors.PreAuthKeys;
using Headscale.Actors.PreAuthKeys.Messages;
using Headscale.Actors.Users.Messages;
using static Headscale.Actors.Users.Messages.UserCommands;
using static Headscale.Actors.Users.Messages.UserQueries;

namespace Headscale.Actors.Users;

/// <summary>Users for the management API and CLI. Never exposes actors; every call has its own timeout.</summary>
public interface IUserService
{
    Task<UserCommandResult> CreateAsync(string name, string displayName, string email, DateTimeOffset now, Cause cause, CancellationToken cancellationToken) =>
        CreateAsync(name, displayName, email, "", now, cause, cancellationToken);

    /// <param name="profilePicUrl">Empty, or an absolute http(s) URL (BadRequest otherwise).</param>
    Task<UserCommandResult> CreateAsync(string name, string displayName, string email, string profilePicUrl, DateTimeOffset now, Cause cause, CancellationToken cancellationToken);

    Task<ImmutableArray<User>> ListAsync(CancellationToken cancellationToken);

    Task<User?> GetAsync(UserId id, CancellationToken cancellationToken);

    Task<User?> GetByNameAsync(string name, CancellationToken cancellationToken);

    Task<UserCommandResult> RenameAsync(UserId id, string newName, DateTimeOffset now, Cause cause, CancellationToken cancellationToken);

    /// <summary>Deletes a user that owns no nodes (Conflict otherwise), and its pre-auth keys with it.</summary>
    Task<UserCommandResult> DeleteAsync(UserId id, DateTimeOffset now, Cause cause, CancellationToken cancellationToken);
}

internal sealed class UserService(
    IRequiredActor<UserDirectorySingleton> users,
    IRequiredActor<NodeRegistrySingleton> registry,
    IRequiredActor<PreAuthKeyStoreSingleton> keys,
    IIdAllocator ids,
    HeadscaleActorsOptions options) : IUserService
{
    private TimeSpan Timeout => options.Domain.AskTimeout;

    public async Task<UserCommandResult> CreateAsync(string name, string displayName, string email, string profilePicUrl, DateTimeOffset now, Cause cause, CancellationToken cancellationToken)
    {
        if (UserDirectoryState.ValidateName(name) is { } problem)
        {
            return new UserCommandResult(CommandResult.Fail(ResultCode.BadRequest, problem), null);
        }

        profilePicUrl ??= "";
        if (profilePicUrl.Length > 0
            && (profilePicUrl.Length > 2048
                || !Uri.TryCreate(profilePicUrl, UriKind.Absolute, out var picture)
                || (picture.Scheme != Uri.UriSchemeHttps && picture.Scheme != Uri.UriSchemeHttp)))
        {
            return new UserCommandResult(CommandResult.Fail(ResultCode.BadRequest, "picture_url must be an absolute http or https URL"), null);
        }

        var id = new UserId(await ids.AllocateAsync(IdKind.User, cancellationToken));
        return await AskUsers<UserCommandResult>(new CreateUser(id, name, displayName ?? "", email ?? "", now, cause, profilePicUrl), cancellationToken);
    }

    public async Task<ImmutableArray<User>> ListAsync(CancellationToken cancellationToken) =>
        (await AskUsers<UserList>(ListUsers.Instance, cancellationToken)).Users;

    public async Task<User?> GetAsync(UserId id, CancellationToken cancellationToken) =>
        (await AskUsers<UserList>(new GetUser(id, null), cancellationToken)).Users.FirstOrDefault();

    public async Task<User?> GetByNameAsync(string name, CancellationToken cancellationToken) =>
        (await AskUsers<UserList>(new GetUser(null, name), cancellationToken)).Users.FirstOrDefault();

    public Task<UserCommandResult> RenameAsync(UserId id, string newName, DateTimeOffset now, Cause cause, CancellationToken cancellationToken) =>
        AskUsers<UserCommandResult>(new RenameUser(id, newName, now, cause), cancellationToken);

    public async Task<UserCommandResult> DeleteAsync(UserId id, DateTimeOffset now, Cause cause, CancellationToken cancellationToken)
    {
        var registryActor = await registry.GetAsync(cancellationToken);
        var owned = await registryActor.Ask<NodeRegistryQueries.NodeIndexList>(
            new NodeRegistryQueries.ListIndex(null, id), Timeout, cancellationToken);
        if (!owned.Entries.IsEmpty)
        {
            return new UserCommandResult(CommandResult.Fail(ResultCode.Conflict, Errors.UserHasNodes), null);
        }

        var result = await AskUsers<UserCommandResult>(new DeleteUser(id, now, cause), cancellationToken);
        if (result.Result.Code != ResultCode.Ok)
        {
            return result;
        }

        var keyStore = await keys.GetAsync(cancellationToken);
        var userKeys = await keyStore.Ask<PreAuthKeyQueries.PreAuthKeyList>(new PreAuthKeyQueries.ListPreAuthKeys(id), Timeout, cancellationToken);
        foreach (var key in userKeys.Keys)
        {
            await keyStore.Ask<PreAuthKeyCommands.PreAuthKeyCommandResult>(
                new PreAuthKeyCommands.DeletePreAuthKey(key.Id, now, cause), Timeout, cancellationToken);
        }

        return result;
    }

    private async Task<T> AskUsers<T>(object message, CancellationToken cancellationToken)
    {
        var actor = await users.GetAsync(cancellationToken);
        return await actor.Ask<T>(message, Timeout, cancellationToken);
    }
}
