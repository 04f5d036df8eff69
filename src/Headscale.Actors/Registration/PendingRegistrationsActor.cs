using Akka.Actor;
using Akka.Event;
using Headscale.Actors.Registration.Messages;
using static Headscale.Actors.Registration.Messages.PendingRegistrationCommands;

namespace Headscale.Actors.Registration;

/// <summary>Registry key for the pending-registration singleton proxy.</summary>
public sealed class PendingRegistrationsSingleton;

/// <summary>
/// Interactive registrations between the client's first request and the admin's approval. Like
/// Headscale's register cache they live in memory only, each for <c>tuning.register_cache_expiration</c>
/// (15 minutes by default): a lost registration just makes the client start a new one. A cluster
/// singleton, so the follow-up and the approval may arrive on any member.
/// </summary>
public sealed class PendingRegistrationsActor : ReceiveActor, IWithTimers
{
    /// <summary>Upper bound on simultaneous follow-ups per registration (a client sends one; more is misuse).</summary>
    private const int MaxWaitersPerRegistration = 16;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    // Verdicts of approved registrations, kept for a while so a follow-up that arrives just after the
    // approval (the client re-polls, or its first follow-up was still in flight) gets the outcome
    // instead of a fresh AuthURL.
    private readonly Dictionary<string, (string MachineKey, RegistrationVerdict Verdict)> _finished = new(StringComparer.Ordinal);
    private readonly TimeSpan _ttl;

    public PendingRegistrationsActor(TimeSpan ttl)
    {
        _ttl = ttl;
        Receive<StartRegistration>(Start);
        Receive<AwaitRegistration>(Await);
        Receive<ClaimRegistration>(Claim);
        Receive<PeekRegistration>(p => Sender.Tell(_entries.TryGetValue(p.RegistrationId, out var e)
            ? new ClaimResult(CommandResult.Ok, e.Registration)
            : new ClaimResult(CommandResult.Fail(ResultCode.NotFound, Errors.RegistrationNotFound), null)));
        Receive<FinishRegistration>(Finish);
        Receive<Expire>(x => Forget(x.RegistrationId, new RegistrationVerdict(x.RegistrationId, RegistrationVerdictKind.Missing, null, Errors.RegistrationNotFound)));
        Receive<ForgetFinished>(f => _finished.Remove(f.RegistrationId));
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(TimeSpan ttl) => Akka.Actor.Props.Create(() => new PendingRegistrationsActor(ttl));

    private void Start(StartRegistration start)
    {
        var id = start.Registration.RegistrationId;
        if (_entries.ContainsKey(id))
        {
            Sender.Tell(CommandResult.Fail(ResultCode.Conflict, "registration id exists"));
            return;
        }

        _entries[id] = new Entry(start.Registration);
        Timers.StartSingleTimer(id, new Expire(id), _ttl);
        Sender.Tell(CommandResult.Ok);
    }

    private void Await(AwaitRegistration wait)
    {
        if (!_entries.ContainsKey(wait.RegistrationId)
            && _finished.TryGetValue(wait.RegistrationId, out var done)
            && done.MachineKey == wait.MachineKey.ToString())
        {
            Sender.Tell(done.Verdict);
            return;
        }

        if (!_entries.TryGetValue(wait.RegistrationId, out var entry) || entry.Registration.MachineKey != wait.MachineKey)
        {
            Sender.Tell(new RegistrationVerdict(wait.RegistrationId, RegistrationVerdictKind.Missing, null, Errors.RegistrationNotFound));
            return;
        }

        if (entry.Waiters.Count >= MaxWaitersPerRegistration)
        {
            // The oldest waiter is the one most likely gone; it will simply poll again.
            entry.Waiters[0].Tell(new RegistrationVerdict(wait.RegistrationId, RegistrationVerdictKind.Missing, null, Errors.RegistrationNotFound));
            entry.Waiters.RemoveAt(0);
        }

        entry.Waiters.Add(Sender);
    }

    private void Claim(ClaimRegistration claim)
    {
        if (!_entries.TryGetValue(claim.RegistrationId, out var entry))
        {
            Sender.Tell(new ClaimResult(CommandResult.Fail(ResultCode.NotFound, Errors.RegistrationNotFound), null));
            return;
        }

        if (entry.Claimed)
        {
            Sender.Tell(new ClaimResult(CommandResult.Fail(ResultCode.Conflict, "registration is being approved"), null));
            return;
        }

        entry.Claimed = true;
        Sender.Tell(new ClaimResult(CommandResult.Ok, entry.Registration));
    }

    private void Finish(FinishRegistration finish)
    {
        var kind = finish.Node is null ? RegistrationVerdictKind.Failed : RegistrationVerdictKind.Completed;
        var verdict = new RegistrationVerdict(finish.RegistrationId, kind, finish.Node, finish.Error);
        if (kind == RegistrationVerdictKind.Completed && _entries.TryGetValue(finish.RegistrationId, out var entry))
        {
            _finished[finish.RegistrationId] = (entry.Registration.MachineKey.ToString(), verdict);
            Timers.StartSingleTimer("finished:" + finish.RegistrationId, new ForgetFinished(finish.RegistrationId), _ttl);
        }

        var known = Forget(finish.RegistrationId, verdict);
        Sender.Tell(known ? CommandResult.Ok : CommandResult.NoOp);
    }

    private bool Forget(string id, RegistrationVerdict verdict)
    {
        if (!_entries.Remove(id, out var entry))
        {
            return false;
        }

        Timers.Cancel(id);
        foreach (var waiter in entry.Waiters)
        {
            waiter.Tell(verdict);
        }

        _log.Debug("registration {RegistrationId} ended: {Verdict}", id, verdict.Kind);
        return true;
    }

    private sealed class Entry(PendingRegistration registration)
    {
        public PendingRegistration Registration { get; } = registration;

        public List<IActorRef> Waiters { get; } = [];

        public bool Claimed { get; set; }
    }

    private sealed record ForgetFinished(string RegistrationId) : INoSerializationVerificationNeeded, IDeadLetterSuppression, INotInfluenceReceiveTimeout;

    private sealed record Expire(string RegistrationId) : INoSerializationVerificationNeeded, IDeadLetterSuppression, INotInfluenceReceiveTimeout;
}
