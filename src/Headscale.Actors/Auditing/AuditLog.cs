using System.Collections.Immutable;
using Akka.Actor;
using Akka.Persistence.Query;
using Akka.Streams;
using Akka.Streams.Dsl;

namespace Headscale.Actors.Auditing;

/// <summary>One audit log entry, as the management API and CLI show it.</summary>
public sealed record AuditEntry(
    long Offset,
    DateTimeOffset At,
    string Kind,
    string Actor,
    string Subject,
    string Detail,
    string Outcome,
    string Via = "");

/// <summary>Filters for reading the audit log; every field is optional. Pages follow <see cref="AfterOffset"/>.</summary>
public sealed record AuditQuery
{
    public DateTimeOffset? From { get; init; }
    public DateTimeOffset? To { get; init; }
    public string? Kind { get; init; }
    public string? Actor { get; init; }
    public string? Subject { get; init; }
    public long AfterOffset { get; init; }
    public int Limit { get; init; } = 100;

    public const int MaxLimit = 1000;
}

/// <summary>A page of entries and the offset to continue after (null when there is no more).</summary>
public sealed record AuditPage(ImmutableArray<AuditEntry> Entries, long? NextOffset);

/// <summary>Reads the audit log from the journal (events tagged <see cref="IAuditEvent.AuditTag"/>).</summary>
public interface IAuditLog
{
    Task<AuditPage> ReadAsync(AuditQuery query, CancellationToken cancellationToken);
}

internal sealed class JournalAuditLog(ActorSystem system) : IAuditLog
{
    public async Task<AuditPage> ReadAsync(AuditQuery query, CancellationToken cancellationToken)
    {
        var limit = Math.Clamp(query.Limit, 1, AuditQuery.MaxLimit);
        var journal = PersistenceQuery.Get(system).ReadJournalFor<Akka.Persistence.Sql.Query.SqlReadJournal>(Akka.Persistence.Sql.Query.SqlReadJournal.Identifier);
        // Each tag's stream is in journal order; their offsets share the journal's ordering, so the
        // merged log is sorted by offset.
        var merged = new List<AuditEntry>();
        foreach (var tag in LifecycleAudit.Tags.Prepend(IAuditEvent.AuditTag))
        {
            var entries = await journal
                .CurrentEventsByTag(tag, Offset.Sequence(query.AfterOffset))
                // A stream element must never be null: events that are not entries (last-seen) are dropped here.
                .SelectMany(e => ToEntry(e) is { } entry && Matches(entry, query) ? [entry] : Array.Empty<AuditEntry>())
                .Take(limit + 1)
                .RunWith(Sink.Seq<AuditEntry>(), system.Materializer())
                .WaitAsync(cancellationToken);
            merged.AddRange(entries);
        }

        var sorted = merged.OrderBy(e => e.Offset).Take(limit + 1).ToList();
        var page = sorted.Take(limit).ToImmutableArray();
        return new AuditPage(page, sorted.Count > limit ? page[^1].Offset : null);
    }

    private static AuditEntry? ToEntry(EventEnvelope envelope) =>
        LifecycleAudit.Describe(envelope.Event) is { } d
            ? new AuditEntry(((Sequence)envelope.Offset).Value, d.At, d.Kind, Actor(d.Cause), d.Subject, d.Detail, d.Outcome, d.Cause.Via)
            : null;

    /// <summary><c>Cli</c>, <c>Api:abcdefg</c>: the kind, and the detail when there is one.</summary>
    private static string Actor(Cause cause) => cause.Detail.Length == 0 ? cause.Kind.ToString() : $"{cause.Kind}:{cause.Detail}";

    private static bool Matches(AuditEntry e, AuditQuery q) =>
        (q.From is null || e.At >= q.From)
        && (q.To is null || e.At <= q.To)
        && (q.Kind is null || e.Kind.StartsWith(q.Kind, StringComparison.Ordinal))
        && (q.Actor is null || e.Actor.StartsWith(q.Actor, StringComparison.Ordinal))
        && (q.Subject is null || e.Subject == q.Subject);
}
