using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Headscale.Actors.Registration;
using static Headscale.Actors.Policy.PolicyCommands;

namespace Headscale.Actors.Policy;

/// <summary>
/// The policy in database mode (a cluster singleton, persistence id <c>policy</c>). A new text
/// is validated before it is persisted, so a broken policy never replaces a good one. Events
/// are kept as the policy's history.
/// </summary>
public sealed class PolicyActor : ReceivePersistentActor
{
    public const string PersistenceIdValue = "policy";

    /// <summary>Largest policy text accepted (Headscale has no limit; this guards the journal).</summary>
    public const int MaxPolicyBytes = 1024 * 1024;

    private const int SnapshotEvery = 50;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly IPolicyValidator? _validator;
    private PolicyState _state = PolicyState.Empty;

    public PolicyActor(IPolicyValidator? validator)
    {
        _validator = validator;
        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is PolicyState state)
            {
                _state = state;
            }
        });
        Recover<PolicyEvents.PolicyChanged>(e => _state = _state.Apply(e));

        Command<GetPolicy>(_ => Sender.Tell(_state.Version == 0
            ? new PolicyResult(PolicyResultCode.NotFound, "", null, 0, "acl policy not found")
            : new PolicyResult(PolicyResultCode.Ok, _state.Text, _state.UpdatedAt, _state.Version, "")));
        Command<SetPolicy>(Set);
        Command<SaveSnapshotSuccess>(s => DeleteSnapshots(new SnapshotSelectionCriteria(s.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(f => _log.Warning(f.Cause, "policy snapshot failed at {SequenceNr}", f.Metadata.SequenceNr));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => _log.Warning(f.Cause, "deleting old policy snapshots failed"));
    }

    public override string PersistenceId => PersistenceIdValue;

    private void Set(SetPolicy command)
    {
        if (System.Text.Encoding.UTF8.GetByteCount(command.Text) > MaxPolicyBytes)
        {
            Sender.Tell(new PolicyResult(PolicyResultCode.Invalid, "", null, _state.Version, $"policy is larger than {MaxPolicyBytes} bytes"));
            return;
        }

        // Without a validator nothing can be proven safe, so nothing is stored.
        var error = _validator is null ? "no policy validator is configured on this server" : _validator.Validate(command.Text);
        if (error is not null)
        {
            Sender.Tell(new PolicyResult(PolicyResultCode.Invalid, "", null, _state.Version, error));
            return;
        }

        var sender = Sender;
        Persist(new PolicyEvents.PolicyChanged(_state.Version + 1, command.Text, command.Now, command.Cause), e =>
        {
            _state = _state.Apply(e);
            _log.Info("policy version {Version} stored ({Cause})", e.Version, e.Cause);
            sender.Tell(new PolicyResult(PolicyResultCode.Ok, _state.Text, _state.UpdatedAt, _state.Version, ""));
            ClusterNotifications.Publish(Context.System, PolicyNotifications.Topic, new PolicyNotifications.PolicyTextChanged(_state.Version, _state.Text));
            if (LastSequenceNr % SnapshotEvery == 0)
            {
                SaveSnapshot(_state);
            }
        });
    }
}
