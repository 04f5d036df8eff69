using System.Collections.Immutable;
using Headscale.Actors.Users.Messages;
using static Headscale.Actors.Users.Messages.UserCommands;
using static Headscale.Actors.Users.Messages.UserEvents;

namespace Headscale.Actors.Users;

/// <summary>Every user of the tailnet; names are unique. Pure <see cref="Decide"/> and <see cref="Apply"/>.</summary>
public sealed record UserDirectoryState(ImmutableDictionary<UserId, User> Users)
{
    /// <summary>Longest accepted user name (a DNS label may be 63; Headscale stores up to this).</summary>
    public const int MaxNameLength = 255;

    public static readonly UserDirectoryState Empty = new(ImmutableDictionary<UserId, User>.Empty);

    public User? FindByName(string name) => Users.Values.FirstOrDefault(u => u.Name == name);

    public static Decision<IUserEvent> Decide(UserDirectoryState state, IUserCommand command) => command switch
    {
        CreateUser c => DecideCreate(state, c),
        RenameUser c => DecideRename(state, c),
        DeleteUser c => state.Users.TryGetValue(c.Id, out var u)
            ? Decision<IUserEvent>.Accept(new UserDeleted(c.Id, u.Name, c.Now, c.Cause))
            : Decision<IUserEvent>.Reject(ResultCode.NotFound, Errors.UserNotFound),
        _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "unknown user command"),
    };

    public static UserDirectoryState Apply(UserDirectoryState state, IUserEvent e) => e switch
    {
        UserCreated c => state with { Users = state.Users.SetItem(c.Id, new User(c.Id, c.Name, c.DisplayName, c.Email, c.At, c.ProfilePicUrl ?? "")) },
        UserRenamed r => state with { Users = state.Users.SetItem(r.Id, state.Users[r.Id] with { Name = r.NewName }) },
        UserDeleted d => state with { Users = state.Users.Remove(d.Id) },
        _ => throw new ArgumentOutOfRangeException(nameof(e), e.GetType().Name, "unknown user event"),
    };

    /// <summary>Checks a user name: non-empty, no white space or control characters, bounded length.</summary>
    public static string? ValidateName(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return "user name must not be empty";
        }

        if (name.Length > MaxNameLength)
        {
            return $"user name is longer than {MaxNameLength} characters";
        }

        return name.Any(c => char.IsWhiteSpace(c) || char.IsControl(c))
            ? "user name must not contain white space or control characters"
            : null;
    }

    private static Decision<IUserEvent> DecideCreate(UserDirectoryState state, CreateUser c)
    {
        if (ValidateName(c.Name) is { } problem)
        {
            return Decision<IUserEvent>.Reject(ResultCode.BadRequest, problem);
        }

        if (state.Users.TryGetValue(c.Id, out var existing))
        {
            // A retried create with the same id is a duplicate, not a second user.
            return existing.Name == c.Name
                ? Decision<IUserEvent>.NoOp()
                : Decision<IUserEvent>.Reject(ResultCode.Conflict, $"user id {c.Id} is taken");
        }

        return state.FindByName(c.Name) is not null
            ? Decision<IUserEvent>.Reject(ResultCode.Conflict, Errors.UserExists)
            : Decision<IUserEvent>.Accept(new UserCreated(c.Id, c.Name, c.DisplayName, c.Email, c.Now, c.Cause, c.ProfilePicUrl ?? ""));
    }

    private static Decision<IUserEvent> DecideRename(UserDirectoryState state, RenameUser c)
    {
        if (!state.Users.TryGetValue(c.Id, out var user))
        {
            return Decision<IUserEvent>.Reject(ResultCode.NotFound, Errors.UserNotFound);
        }

        if (ValidateName(c.NewName) is { } problem)
        {
            return Decision<IUserEvent>.Reject(ResultCode.BadRequest, problem);
        }

        if (user.Name == c.NewName)
        {
            return Decision<IUserEvent>.NoOp();
        }

        return state.FindByName(c.NewName) is not null
            ? Decision<IUserEvent>.Reject(ResultCode.Conflict, Errors.UserExists)
            : Decision<IUserEvent>.Accept(new UserRenamed(c.Id, user.Name, c.NewName, c.Now, c.Cause));
    }
}
