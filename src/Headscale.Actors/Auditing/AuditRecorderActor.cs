using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using static Headscale.Actors.Auditing.AuditEvents;

namespace Headscale.Actors.Auditing;

/// <summary>
/// Stores refused attempts (failed API authentication) in the journal, tagged for the audit log.
/// One per process, under its own persistence id, so members never share a writer and it never
/// needs to recover anything.
/// <para>
/// A flood of bad keys must not grow the journal without bound. Refusals are grouped per
/// (source address, key prefix, reason) in windows of <see cref="Window"/>: the first refusal of
/// a group is stored at once (so a single attempt is durable), the rest of the window is counted
/// and stored as one summary when the window closes. At most <see cref="MaxGroupsPerWindow"/>
/// groups are tracked per window; refusals beyond that go into one overflow summary. So a window
/// writes at most 2 × MaxGroupsPerWindow + 1 events, whatever the attack rate.
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
    private readonly Dictionary<(string Remote, string Prefix, string Reason), Group> _groups = new();
    private Group? _overflow;

    public AuditRecorderActor(string persistenceId, TimeProvider time, TimeSpan? window = null)
    {
        PersistenceId = persistenceId;
        _time = time;
        _window = window ?? Window;

        // Nothing to rebuild: the events are read through the audit log, never by this actor.
        Recover<object>(_ => { });
        Command<AuditRecorderCommands.RecordApiAuthenticationFailure>(OnFailure);
        Command<FlushWindow>(_ => Flush());
    }

    public override string PersistenceId { get; }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(string persistenceId, TimeProvider time, TimeSpan? window = null) =>
        Akka.Actor.Props.Create(() => new AuditRecorderActor(persistenceId, time, window));

    private void OnFailure(AuditRecorderCommands.RecordApiAuthenticationFailure f)
    {
        if (!Timers.IsTimerActive(FlushWindow.Instance))
        {
            Timers.StartSingleTimer(FlushWindow.Instance, FlushWindow.Instance, _window);
        }

        var key = (f.Remote, f.Prefix, f.Reason);
        if (_groups.TryGetValue(key, out var group))
        {
            group.Suppressed++;
            group.Via = f.Via;
            return;
        }

        if (_groups.Count >= MaxGroupsPerWindow)
        {
            _overflow ??= new Group(f.At, f.Via);
            _overflow.Suppressed++;
            return;
        }

        _groups[key] = new Group(f.At, f.Via);
        Store(new ApiAuthenticationFailed(f.Prefix, f.Reason, f.Remote, 1, f.At, f.At, Cause(f.Prefix, f.Via)));
    }

    private void Flush()
    {
        var now = _time.GetUtcNow();
        foreach (var ((remote, prefix, reason), group) in _groups)
        {
            if (group.Suppressed > 0)
            {
                Store(new ApiAuthenticationFailed(prefix, reason, remote, group.Suppressed, group.FirstAt, now, Cause(prefix, group.Via)));
            }
        }

        if (_overflow is { } overflow)
        {
            _log.Warning("{Count} refused management calls from more than {Groups} sources in one window", overflow.Suppressed, MaxGroupsPerWindow);
            Store(new ApiAuthenticationFailed("", "many", "*", overflow.Suppressed, overflow.FirstAt, now, Cause("", overflow.Via)));
        }

        _groups.Clear();
        _overflow = null;
    }

    private void Store(ApiAuthenticationFailed e)
    {
        var started = System.Diagnostics.Stopwatch.GetTimestamp();
        // Nobody waits for a reply, so there is no reason to stash commands while writing.
        PersistAsync(e, _ => Observability.HeadscaleMetrics.RecordJournalWrite(System.Diagnostics.Stopwatch.GetElapsedTime(started)));
    }

    protected override void OnPersistFailure(Exception cause, object @event, long sequenceNr)
    {
        Observability.HeadscaleMetrics.JournalWriteFailures.Add(1);
        base.OnPersistFailure(cause, @event, sequenceNr);
    }

    protected override void OnPersistRejected(Exception cause, object @event, long sequenceNr)
    {
        Observability.HeadscaleMetrics.JournalWriteFailures.Add(1);
        base.OnPersistRejected(cause, @event, sequenceNr);
    }

    private static Cause Cause(string prefix, string via) => new(CauseKind.Api, prefix) { Via = via };

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
}
