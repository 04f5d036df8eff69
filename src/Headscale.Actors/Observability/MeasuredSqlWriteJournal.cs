using System.Collections.Immutable;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using Akka.Persistence;
using Akka.Persistence.Sql.Journal;

namespace Headscale.Actors.Observability;

/// <summary>
/// The SQL journal with its writes measured: each batch handed to the database is timed until the
/// database answered, and writes that failed or were rejected are counted. Selected as the class of
/// the <c>akka.persistence.journal.sql</c> plugin in <c>hocon/headscale.conf</c>, so every persistent
/// actor is covered without code of its own (decision 0700).
/// </summary>
public sealed class MeasuredSqlWriteJournal : SqlWriteJournal
{
    public MeasuredSqlWriteJournal(Akka.Configuration.Config journalConfig)
        : base(journalConfig)
    {
        JournalWriteMetrics.Initialize();
    }

    protected override Task<IImmutableList<Exception>> WriteMessagesAsync(IEnumerable<AtomicWrite> messages, CancellationToken cancellationToken)
    {
        // The journal hands us a list already; copying it only when it is not one keeps this allocation-free.
        var writes = messages as IReadOnlyCollection<AtomicWrite> ?? messages.ToList();
        var started = Stopwatch.GetTimestamp();
        var write = base.WriteMessagesAsync(writes, cancellationToken);
        JournalWriteMetrics.Observe(write, writes.Count, started);
        return write;
    }
}

/// <summary>
/// The accounting of <see cref="MeasuredSqlWriteJournal"/>, apart from the actor so it can be tested
/// with tasks of any outcome.
/// </summary>
public static class JournalWriteMetrics
{
    /// <summary><c>reason</c> label: the database call failed (the writers stop, as Akka.Persistence requires).</summary>
    public const string Failed = "failed";

    /// <summary><c>reason</c> label: the journal refused single events (e.g. serialization) and the rest were stored.</summary>
    public const string Rejected = "rejected";

    /// <summary>Exports both failure series at zero, so a scrape shows them before the first failure.</summary>
    public static void Initialize()
    {
        HeadscaleMetrics.JournalWriteFailures.Add(0, new KeyValuePair<string, object?>("reason", Failed));
        HeadscaleMetrics.JournalWriteFailures.Add(0, new KeyValuePair<string, object?>("reason", Rejected));
    }

    /// <summary>
    /// Records, once <paramref name="write"/> completes, its duration from <paramref name="startedTimestamp"/>
    /// (a <see cref="Stopwatch"/> timestamp) and how many of its <paramref name="writes"/> atomic writes failed.
    /// </summary>
    public static void Observe(Task<IImmutableList<Exception>> write, int writes, long startedTimestamp) =>
        Observe(write, writes, startedTimestamp, HeadscaleMetrics.JournalWriteDuration, HeadscaleMetrics.JournalWriteFailures);

    /// <summary><see cref="Observe(Task{IImmutableList{Exception}}, int, long)"/> into the given instruments.</summary>
    public static void Observe(Task<IImmutableList<Exception>> write, int writes, long startedTimestamp, Histogram<double> duration, Counter<long> failures)
    {
        if (write.IsCompleted)
        {
            Record(new Pending(writes, startedTimestamp, duration, failures), write);
            return;
        }

        _ = write.ContinueWith(
            static (task, state) => Record((Pending)state!, task),
            new Pending(writes, startedTimestamp, duration, failures),
            CancellationToken.None,
            TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    private static void Record(Pending pending, Task<IImmutableList<Exception>> write)
    {
        pending.Duration.Record(Stopwatch.GetElapsedTime(pending.StartedTimestamp).TotalSeconds);
        if (!write.IsCompletedSuccessfully)
        {
            pending.Failures.Add(pending.Writes, new KeyValuePair<string, object?>("reason", Failed));
            return;
        }

        // A null or empty result means every write was stored; otherwise one entry per write, null when stored.
        var rejected = 0;
        if (write.Result is { } results)
        {
            foreach (var exception in results)
            {
                if (exception is not null)
                {
                    rejected++;
                }
            }
        }

        if (rejected > 0)
        {
            pending.Failures.Add(rejected, new KeyValuePair<string, object?>("reason", Rejected));
        }
    }

    private sealed record Pending(int Writes, long StartedTimestamp, Histogram<double> Duration, Counter<long> Failures);
}
