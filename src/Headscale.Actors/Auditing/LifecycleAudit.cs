using System.Text;
using Headscale.Actors.Nodes.Messages;
using Headscale.Actors.PreAuthKeys.Messages;
using Headscale.Actors.Registration;
using Headscale.Actors.Users.Messages;

namespace Headscale.Actors.Auditing;

/// <summary>
/// Audit entries for the node lifecycle's events (registration, re-authentication, key rotation,
/// expiry, deletion, users, pre-auth key creation and use). They are tagged by the lifecycle
/// itself; this turns them into entries without reading any field that could hold a secret.
/// </summary>
/// <summary>What the audit log shows of one event.</summary>
internal sealed record AuditDescription(DateTimeOffset At, Cause Cause, string Kind, string Subject, string Detail, string Outcome = AuditOutcomes.Ok);

internal static class LifecycleAudit
{
    public static readonly string[] Tags = [EventTags.NodeChanged, EventTags.UserChanged, EventTags.PreAuthKeyChanged];

    public static AuditDescription? Describe(object e) => e switch
    {
        IAuditEvent a => new(a.At, a.Cause, a.AuditKind, a.AuditSubject, a.AuditDetail, a.AuditOutcome),
        NodeEvents.NodeRegistered r => new(r.At, r.Cause, "node.registered", Subject("node", r.Node.Id.Value), $"node {r.Node.GivenName} registered by {r.Node.Method} for user {r.Node.User.Value}"),
        NodeEvents.NodeExpired x => new(x.At, x.Cause, x.Cause.Kind == CauseKind.Client ? "node.logged-out" : "node.expired", Subject("node", x.Id.Value), $"node expires {x.ExpiresAt:O}"),
        NodeEvents.NodeRenamed n => new(n.At, n.Cause, "node.renamed", Subject("node", n.Id.Value), $"node renamed from {n.OldGivenName} to {n.NewGivenName}"),
        NodeEvents.NodeKeyRotated k => new(k.At, k.Cause, "node.key-rotated", Subject("node", k.Id.Value), "node key rotated"),
        // Last-seen is bookkeeping, not an action anyone took.
        NodeEvents.NodeLastSeen => null,
        INodeEvent n => new(n.At, n.Cause, Kind("node", n, "Node"), Subject("node", n.Id.Value), Kind("node", n, "Node")),
        UserEvents.UserCreated u => new(u.At, u.Cause, "user.created", Subject("user", u.Id.Value), $"user {u.Name} created"),
        UserEvents.UserRenamed u => new(u.At, u.Cause, "user.renamed", Subject("user", u.Id.Value), $"user renamed from {u.OldName} to {u.NewName}"),
        UserEvents.UserDeleted u => new(u.At, u.Cause, "user.deleted", Subject("user", u.Id.Value), $"user {u.Name} deleted"),
        IUserEvent u => new(u.At, u.Cause, Kind("user", u, "User"), Subject("user", u.Id.Value), Kind("user", u, "User")),
        IPreAuthKeyEvent k => new(k.At, k.Cause, Kind("preauthkey", k, "PreAuthKey"), Subject("preauthkey", k.Id.Value), Kind("preauthkey", k, "PreAuthKey")),
        _ => null,
    };

    private static string Subject(string kind, ulong id) => $"{kind}:{id}";

    /// <summary><c>NodeKeyRotated</c> → <c>node.key-rotated</c>.</summary>
    private static string Kind(string area, object e, string typePrefix)
    {
        var name = e.GetType().Name;
        if (name.StartsWith(typePrefix, StringComparison.Ordinal))
        {
            name = name[typePrefix.Length..];
        }

        var kebab = new StringBuilder();
        foreach (var c in name)
        {
            if (char.IsUpper(c) && kebab.Length > 0)
            {
                kebab.Append('-');
            }

            kebab.Append(char.ToLowerInvariant(c));
        }

        return $"{area}.{kebab}";
    }
}
