using System.Text.Json.Serialization;
using Headscale.Actors.Serialization;

namespace Headscale.Actors.Auditing;

/// <summary>Events persisted by the <see cref="AuditRecorderActor"/>: attempts that were refused and changed nothing else.</summary>
public static class AuditEvents
{
    /// <summary>
    /// <paramref name="Count"/> management calls refused for the same source, key prefix and reason
    /// between <paramref name="FirstAt"/> and <paramref name="At"/>. The first refusal of a window is
    /// stored alone (count 1); the rest of the window is stored as one summary.
    /// </summary>
    /// <param name="Prefix">The API key prefix when the header parsed as a key, else empty. Never the secret.</param>
    /// <param name="Reason">missing, malformed, unknown-prefix, expired, wrong-secret, or "many" for the overflow summary.</param>
    /// <param name="Remote">The caller's address ("*" for the overflow summary).</param>
    public sealed record ApiAuthenticationFailed(
        string Prefix,
        string Reason,
        string Remote,
        int Count,
        DateTimeOffset FirstAt,
        DateTimeOffset At,
        Cause Cause) : IHeadscaleSerializable, IAuditEvent
    {
        [JsonIgnore] public string AuditKind => "auth.api.failed";
        [JsonIgnore] public string AuditSubject => Prefix.Length > 0 ? "apikey:" + Prefix : "api";
        [JsonIgnore] public string AuditDetail => Count == 1
            ? $"management call refused from {Remote}: API key {Reason}"
            : $"{Count} management calls refused from {Remote} since {FirstAt:O}: API key {Reason}";
        [JsonIgnore] public string AuditOutcome => AuditOutcomes.Denied;
    }

    /// <summary>
    /// <paramref name="Count"/> registration requests of one machine refused for the same method and
    /// reason (bad, expired or used pre-auth key, a node key of another machine, …), coalesced like
    /// <see cref="ApiAuthenticationFailed"/>. The pre-auth key itself is never stored.
    /// </summary>
    /// <param name="MachineKey">The machine's public key ("*" for the overflow summary).</param>
    /// <param name="Method">preauthkey, interactive, followup or logout.</param>
    /// <param name="Reason">The error the client was given.</param>
    public sealed record RegistrationRefused(
        string MachineKey,
        string Method,
        string Reason,
        int Count,
        DateTimeOffset FirstAt,
        DateTimeOffset At,
        Cause Cause) : IHeadscaleSerializable, IAuditEvent
    {
        [JsonIgnore] public string AuditKind => "auth.registration.failed";
        [JsonIgnore] public string AuditSubject => "machine:" + MachineKey;
        [JsonIgnore] public string AuditDetail => Count == 1
            ? $"{Method} registration refused: {Reason}"
            : $"{Count} {Method} registrations refused since {FirstAt:O}: {Reason}";
        [JsonIgnore] public string AuditOutcome => AuditOutcomes.Denied;
    }
}
