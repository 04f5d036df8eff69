using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using static Headscale.Actors.Auditing.AuditEvents;

namespace Headscale.Actors.Auditing;

/// <summary>
/// Stores refused attempts (failed API authentication, refused registrations) in the journal, tagged
/// for the audit log.
/// One per process, under its own persistence id, so members never share a writer and it never
/// needs to recover anything.
/// <para>
/// A flood of bad keys must not grow the journal without bound. Refusals are grouped per
/// (kind, source, key prefix or method, reason) in windows of <see cref="Window"/>: the first refusal of
/// a group is stored at once (so a single attempt is durable), the rest of the window is counted
/// and stored as one summary when the window closes. At most <see cref="MaxGroupsPerWindow"/>
/// groups are tracked per window; refusals beyond that go into one overflow summary per kind. So a
/// window writes at most 2 × MaxGroupsPerWindow + 2 events, whatever the attack rate. Suppressed
/// refusals still in memory when the process stops are lost; the first of each group is not.
/// </para>
/// </summary>
public sealed class AuditRecorderActor : ReceivePersistentActor, IWithTimers
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    public const int MaxGroupsPerWindow = 100;
    public const string PersistenceIdPrefix = "audit-recorder-";

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly TimeProvider _time;
    private readonly TimeSpan _window;
    private readonly Dictionary<(RefusalKind Kind, string Source, string Principal, string Reason), Group> _groups = new();
    private readonly Dictionary<RefusalKind, Group> _overflow = new();

    public AuditRecorderActor(string persistenceId, TimeProvider time, TimeSpan? window = null)
    {
        PersistenceId = persistenceId;
        _time = time;
        _window = window ?? Window;

        // Nothing to rebuild: the events are read through the audit log, never by this actor.
        Recover<object>(_ => { });
        Command<AuditRecorderCommands.RecordApiAuthenticationFailure>(f =>
            OnRefusal(RefusalKind.ApiAuthentication, f.Remote, f.Prefix, f.Reason, f.Via, f.At));
        Command<AuditRecorderCommands.RecordRegistrationRefusal>(r =>
            OnRefusal(RefusalKind.Registration, r.MachineKey, r.Method, r.Reason, "", r.At));
        Command<FlushWindow>(_ => Flush());
    }

    public override string PersistenceId { get; }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string persistenceId, TimeProvider time, TimeSpan? window = null) =>
        Akka.Actor.Props.Create(() => new AuditRecorderActor(persistenceId, time, window));

    private void OnRefusal(RefusalKind kind, string source, string principal, string reason, string via, DateTimeOffset at)
    {
        if (!Timers.IsTimerActive(FlushWindow.Instance))
        {
            Timers.StartSingleTimer(FlushWindow.Instance, FlushWindow.Instance, _window);
        }

        var key = (kind, source, principal, reason);
        if (_groups.TryGetValue(key, out var group))
        {
            group.Suppressed++;
            group.Via = via;
            return;
        }

        if (_groups.Count >= MaxGroupsPerWindow)
        {
            if (!_overflow.TryGetValue(kind, out var overflow))
            {
                _overflow[kind] = overflow = new Group(at, via);
            }

            overflow.Suppressed++;
            return;
        }

        _groups[key] = new Group(at, via);
        Store(Event(kind, source, principal, reason, via, 1, at, at));
    }

    private void Flush()
    {
        var now = _time.GetUtcNow();
        foreach (var ((kind, source, principal, reason), group) in _groups)
        {
            if (group.Suppressed > 0)
            {
                Store(Event(kind, source, principal, reason, group.Via, group.Suppressed, group.FirstAt, now));
            }
        }

        foreach (var (kind, overflow) in _overflow)
        {
            _log.Warning("{Count} refusals of kind {Kind} from more than {Groups} sources in one window", overflow.Suppressed, kind, MaxGroupsPerWindow);
            Store(Event(kind, "*", "", "many", overflow.Via, overflow.Suppressed, overflow.FirstAt, now));
        }

        _groups.Clear();
        _overflow.Clear();
    }

    private static IAuditEvent Event(RefusalKind kind, string source, string principal, string reason, string via, int count, DateTimeOffset firstAt, DateTimeOffset at) =>
        kind == RefusalKind.ApiAuthentication
            ? new ApiAuthenticationFailed(principal, reason, source, count, firstAt, at, new Cause(CauseKind.Api, principal) { Via = via })
            : new RegistrationRefused(source, principal, reason, count, firstAt, at, Cause.Client(source));

    private void Store(IAuditEvent e)
    {
        // Nobody waits for a reply, so there is no reason to stash commands while writing.
        PersistAsync(e, _ => { });
    }

    private enum RefusalKind
    {
        ApiAuthentication,
        Registration,
    }

    private sealed class Group(DateTimeOffset firstAt, string via)
    {
        public DateTimeOffset FirstAt { get; } = firstAt;
        public string Via { get; set; } = via;
        public int Suppressed { get; set; }
    }

    private sealed record FlushWindow : INoSerializationVerificationNeeded, IDeadLetterSuppression, INotInfluenceReceiveTimeout
    {
        public static readonly FlushWindow Instance = new();
    }
}

/// <summary>Messages for the <see cref="AuditRecorderActor"/>; local only (sent by <see cref="IAuditRecorder"/>).</summary>
public static class AuditRecorderCommands
{
    /// <summary>From the management authentication: a call was refused. No reply.</summary>
    public sealed record RecordApiAuthenticationFailure(string Prefix, string Reason, string Remote, string Via, DateTimeOffset At);

    /// <summary>From the registration service: a machine's registration was refused. No reply.</summary>
    public sealed record RecordRegistrationRefusal(string MachineKey, string Method, string Reason, DateTimeOffset At);
}
