using Akka.Actor;
using Akka.Persistence;

namespace Headscale.Actors.Registration;

/// <summary>
/// The shape shared by the low-volume persistent singletons (users, pre-auth keys): a command is
/// decided by a pure function, its events are persisted, applied, and only then is the sender
/// answered, exactly once.
/// </summary>
public abstract class DecidingPersistentActor<TState, TCommand, TEvent> : ReceivePersistentActor
    where TCommand : class
    where TEvent : class
{
    protected DecidingPersistentActor(TState initial)
    {
        State = initial;
        Recover<TEvent>(e => State = ApplyEvent(State, e));
        Command<TCommand>(Handle);
    }

    protected TState State { get; private set; }

    protected abstract Decision<TEvent> DecideCommand(TState state, TCommand command);

    protected abstract TState ApplyEvent(TState state, TEvent e);

    /// <summary>Runs after <paramref name="e"/> is stored and applied (not during recovery): notifications go here.</summary>
    protected virtual void AfterPersist(TEvent e, TState state)
    {
    }

    /// <summary>Builds the reply for <paramref name="command"/> once its events (if any) are stored.</summary>
    protected abstract object Reply(TCommand command, CommandResult result, TState state);

    private void Handle(TCommand command)
    {
        var decision = DecideCommand(State, command);
        var sender = Sender;
        if (decision.Events.Count == 0)
        {
            sender.Tell(Reply(command, decision.Result, State));
            return;
        }

        var remaining = decision.Events.Count;
        PersistAll(decision.Events.Select(EventTags.Tag), persisted =>
        {
            var e = (TEvent)EventTags.Untag(persisted);
            State = ApplyEvent(State, e);
            AfterPersist(e, State);
            if (--remaining == 0)
            {
                sender.Tell(Reply(command, decision.Result, State));
            }
        });
    }
}
