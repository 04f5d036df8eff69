using Akka.Actor;
using Headscale.Actors.Registration;
using Headscale.Actors.Users.Messages;
using static Headscale.Actors.Users.Messages.UserCommands;
using static Headscale.Actors.Users.Messages.UserQueries;

namespace Headscale.Actors.Users;

/// <summary>Registry key for the user directory singleton proxy.</summary>
public sealed class UserDirectorySingleton;

/// <summary>
/// The single writer of users (a persistent cluster singleton, see decision 0500): it alone
/// decides name uniqueness. Users are few, so one journal keeps listing cheap.
/// </summary>
public sealed class UserDirectoryActor : DecidingPersistentActor<UserDirectoryState, IUserCommand, IUserEvent>
{
    /// <summary>Persistence id; part of the stored schema.</summary>
    public const string PersistenceIdValue = "users";

    public UserDirectoryActor()
        : base(UserDirectoryState.Empty)
    {
        Command<ListUsers>(_ => Sender.Tell(new UserList([.. State.Users.Values.OrderBy(u => u.Id.Value)])));
        Command<GetUser>(q =>
        {
            var user = q.Id is { } id ? State.Users.GetValueOrDefault(id) : State.FindByName(q.Name ?? "");
            Sender.Tell(new UserList(user is null ? [] : [user]));
        });
    }

    public override string PersistenceId => PersistenceIdValue;

    protected override Decision<IUserEvent> DecideCommand(UserDirectoryState state, IUserCommand command) =>
        UserDirectoryState.Decide(state, command);

    protected override UserDirectoryState ApplyEvent(UserDirectoryState state, IUserEvent e) =>
        UserDirectoryState.Apply(state, e);

    protected override void AfterPersist(IUserEvent e, UserDirectoryState state) =>
        ClusterNotifications.Publish(Context.System, UserNotifications.Topic, new UserNotifications.UserChanged(e.Id, state.Users.GetValueOrDefault(e.Id)));

    protected override object Reply(IUserCommand command, CommandResult result, UserDirectoryState state)
    {
        var id = command switch
        {
            CreateUser c => c.Id,
            RenameUser r => r.Id,
            DeleteUser d => d.Id,
            _ => default,
        };
        return new UserCommandResult(result, state.Users.GetValueOrDefault(id));
    }
}
