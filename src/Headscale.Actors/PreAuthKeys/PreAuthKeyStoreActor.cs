using Akka.Actor;
using Headscale.Actors.PreAuthKeys.Messages;
using Headscale.Actors.Registration;
using static Headscale.Actors.PreAuthKeys.Messages.PreAuthKeyCommands;
using static Headscale.Actors.PreAuthKeys.Messages.PreAuthKeyQueries;

namespace Headscale.Actors.PreAuthKeys;

/// <summary>Registry key for the pre-auth key store singleton proxy.</summary>
public sealed class PreAuthKeyStoreSingleton;

/// <summary>
/// The single writer of pre-auth keys (a persistent cluster singleton, see decision 0500). Being
/// the one writer is what makes a single-use key usable exactly once across the cluster.
/// </summary>
public sealed class PreAuthKeyStoreActor : DecidingPersistentActor<PreAuthKeyStoreState, IPreAuthKeyCommand, IPreAuthKeyEvent>
{
    /// <summary>Persistence id; part of the stored schema.</summary>
    public const string PersistenceIdValue = "preauthkeys";

    public PreAuthKeyStoreActor()
        : base(PreAuthKeyStoreState.Empty)
    {
        Command<FindPreAuthKey>(q =>
            Sender.Tell(new PreAuthKeyList(State.Find(q.Prefix, q.LegacyKey) is { } key ? [key] : [])));
        Command<ListPreAuthKeys>(q => Sender.Tell(new PreAuthKeyList(
            [.. State.Keys.Values.Where(k => q.User is null || k.User == q.User).OrderBy(k => k.Id.Value)])));
    }

    public override string PersistenceId => PersistenceIdValue;

    protected override Decision<IPreAuthKeyEvent> DecideCommand(PreAuthKeyStoreState state, IPreAuthKeyCommand command) =>
        PreAuthKeyStoreState.Decide(state, command);

    protected override PreAuthKeyStoreState ApplyEvent(PreAuthKeyStoreState state, IPreAuthKeyEvent e) =>
        PreAuthKeyStoreState.Apply(state, e);

    protected override object Reply(IPreAuthKeyCommand command, CommandResult result, PreAuthKeyStoreState state) =>
        new PreAuthKeyCommandResult(result, state.Keys.GetValueOrDefault(command.Id));
}
