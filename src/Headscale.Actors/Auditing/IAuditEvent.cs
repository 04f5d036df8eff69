namespace Headscale.Actors.Auditing;

/// <summary>
/// A persisted event that belongs in the audit log. The journal is the audit log: such events are
/// tagged <see cref="AuditTag"/> when written and read back through the persistence query.
/// Implementations must never put a secret (key material, hashes) into <see cref="AuditSubject"/>
/// or <see cref="AuditDetail"/>.
/// </summary>
public interface IAuditEvent
{
    public const string AuditTag = "audit";

    DateTimeOffset At { get; }

    Cause Cause { get; }

    /// <summary>A stable, dotted name: <c>apikey.created</c>, <c>policy.changed</c>, <c>node.registered</c>.</summary>
    string AuditKind { get; }

    /// <summary>What the event is about: <c>apikey:abcdefg</c>, <c>node:12</c>, <c>policy</c>.</summary>
    string AuditSubject { get; }

    /// <summary>A short human description of what changed.</summary>
    string AuditDetail { get; }

    /// <summary><c>ok</c> for a change that happened, <c>denied</c> for a refused attempt.</summary>
    string AuditOutcome => AuditOutcomes.Ok;
}

/// <summary>The outcomes an audit entry can have.</summary>
public static class AuditOutcomes
{
    public const string Ok = "ok";
    public const string Denied = "denied";
}
