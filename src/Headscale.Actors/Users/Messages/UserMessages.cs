using System.Collections.Immutable;
using Headscale.Actors.Serialization;

namespace Headscale.Actors.Users.Messages;

/// <summary>A user as the directory stores it and as every reply shows it.</summary>
public sealed record User(UserId Id, string Name, string DisplayName, string Email, DateTimeOffset CreatedAt, string ProfilePicUrl = "")
    : IHeadscaleSerializable;

/// <summary>Marker for commands to the user directory singleton; each is answered with <see cref="UserCommands.UserCommandResult"/>.</summary>
public interface IUserCommand : IHeadscaleSerializable;

/// <summary>Marker for events the user directory persists.</summary>
public interface IUserEvent : IHeadscaleSerializable
{
    UserId Id { get; }

    DateTimeOffset At { get; }

    Cause Cause { get; }
}

/// <summary>Commands to the user directory (sent by <see cref="IUserService"/>).</summary>
public static class UserCommands
{
    /// <summary>Creates a user with a freshly allocated id. Conflict when the name is taken.</summary>
    public sealed record CreateUser(UserId Id, string Name, string DisplayName, string Email, DateTimeOffset Now, Cause Cause, string ProfilePicUrl = "") : IUserCommand;

    /// <summary>Renames a user. NotFound, Conflict (name taken) or NoOp (same name).</summary>
    public sealed record RenameUser(UserId Id, string NewName, DateTimeOffset Now, Cause Cause) : IUserCommand;

    /// <summary>Deletes a user. The sender checks that the user owns no nodes first.</summary>
    public sealed record DeleteUser(UserId Id, DateTimeOffset Now, Cause Cause) : IUserCommand;

    /// <summary>The reply to every user command: the result and the user as it is afterwards (null if none).</summary>
    public sealed record UserCommandResult(CommandResult Result, User? User) : IHeadscaleSerializable;
}

/// <summary>Events persisted by the user directory.</summary>
public static class UserEvents
{
    /// <param name="ProfilePicUrl">Empty in events stored before pictures were kept.</param>
    public sealed record UserCreated(UserId Id, string Name, string DisplayName, string Email, DateTimeOffset At, Cause Cause, string ProfilePicUrl = "") : IUserEvent;

    public sealed record UserRenamed(UserId Id, string OldName, string NewName, DateTimeOffset At, Cause Cause) : IUserEvent;

    public sealed record UserDeleted(UserId Id, string Name, DateTimeOffset At, Cause Cause) : IUserEvent;
}

/// <summary>Queries to the user directory.</summary>
public static class UserQueries
{
    /// <summary>Every user, ordered by id. Replied to with <see cref="UserList"/>.</summary>
    public sealed record ListUsers : IHeadscaleSerializable
    {
        public static readonly ListUsers Instance = new();
    }

    /// <summary>One user by id or by name (exactly one set). Replied to with <see cref="UserList"/> (0 or 1 entries).</summary>
    public sealed record GetUser(UserId? Id, string? Name) : IHeadscaleSerializable;

    public sealed record UserList(ImmutableArray<User> Users) : IHeadscaleSerializable;
}

/// <summary>What the user directory tells the cluster after it persisted a change.</summary>
public static class UserNotifications
{
    /// <summary>DistributedPubSub topic every host's network map feed subscribes to (decision 0007).</summary>
    public const string Topic = "user-changes";

    /// <summary>The user after a change; null once deleted. Published by <see cref="UserDirectoryActor"/> after each persisted event.</summary>
    public sealed record UserChanged(UserId Id, User? User) : IHeadscaleSerializable;
}
