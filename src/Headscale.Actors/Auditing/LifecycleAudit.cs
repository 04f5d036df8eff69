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
internal static class LifecycleAudit
{
    public static readonly string[] Tags = [EventTags.NodeChanged, EventTags.UserChanged, EventTags.PreAuthKeyChanged];

    public static (DateTimeOffset At, Cause Cause, string Kind, string Subject, string Detail)? Describe(object e) => e switch
    {
        IAuditEvent a => (a.At, a.Cause, a.AuditKind, a.AuditSubject, a.AuditDetail),
        NodeEvents.NodeRegistered r => (r.At, r.Cause, "node.registered", Subject("node", r.Node.Id.Value), $"node {r.Node.GivenName} registered by {r.Node.Method} for user {r.Node.User.Value}"),
        INodeEvent n => (n.At, n.Cause, Kind("node", n, "Node"), Subject("node", n.Id.Value), Kind("node", n, "Node")),
        IUserEvent u => (u.At, u.Cause, Kind("user", u, "User"), Subject("user", u.Id.Value), Kind("user", u, "User")),
        IPreAuthKeyEvent k => (k.At, k.Cause, Kind("preauthkey", k, "PreAuthKey"), Subject("preauthkey", k.Id.Value), Kind("preauthkey", k, "PreAuthKey")),
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
