using Akka.Persistence.Journal;

namespace Headscale.Actors.Auditing;

/// <summary>Tags every <see cref="IAuditEvent"/> so the audit log can read them by tag, in journal order.</summary>
public sealed class AuditTagger : IWriteEventAdapter
{
    private static readonly string[] Tags = [IAuditEvent.AuditTag];

    public string Manifest(object evt) => string.Empty;

    public object ToJournal(object evt) => evt is IAuditEvent ? new Tagged(evt, Tags) : evt;
}
