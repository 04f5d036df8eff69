namespace Headscale.Actors.Auditing;

/// <summary>Who or what caused a state change; carried by every event so the journal is the audit log.</summary>
public enum CauseKind
{
    /// <summary>The server itself (timers, expiry, clean-up).</summary>
    System = 0,

    /// <summary>The local CLI over the unix socket.</summary>
    Cli = 1,

    /// <summary>A remote management call authenticated by an API key (detail: the key's prefix).</summary>
    ApiKey = 2,

    /// <summary>A node registering with a pre-auth key (detail: the key id).</summary>
    PreAuthKey = 3,

    /// <summary>A node registering interactively (detail: the registration id).</summary>
    Interactive = 4,

    /// <summary>The node itself over the control protocol (detail: the node id).</summary>
    Node = 5,
}

/// <summary>The cause of an event: a kind plus a detail that never contains a secret.</summary>
public sealed record Cause(CauseKind Kind, string Detail)
{
    public static readonly Cause System = new(CauseKind.System, "");

    public override string ToString() => Detail.Length == 0 ? Kind.ToString() : $"{Kind}:{Detail}";
}
