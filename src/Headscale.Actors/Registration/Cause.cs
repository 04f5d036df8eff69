namespace Headscale.Actors;

/// <summary>Who or what caused a state change. Every persisted event carries one, so the audit log is the journal.</summary>
public enum CauseKind
{
    /// <summary>The local CLI (unix socket); detail is the command.</summary>
    Cli = 1,

    /// <summary>The management API; detail names the caller (API key prefix).</summary>
    Api = 2,

    /// <summary>A node registering with a pre-auth key; detail is the key id.</summary>
    PreAuthKey = 3,

    /// <summary>An interactive registration approved out of band; detail is the registration id.</summary>
    Interactive = 4,

    /// <summary>The server itself (timers, cleanup, compensation); detail says which.</summary>
    System = 5,

    /// <summary>The node's own request over the control protocol (logout, key rotation); detail is the machine key.</summary>
    Client = 6,
}

/// <summary>The cause of a state change: a kind plus a short detail. Holds no actor references.</summary>
public sealed record Cause(CauseKind Kind, string Detail)
{
    /// <summary>
    /// The entry point that carried the change for the audit log: the management method
    /// (<c>CreateUser</c>) or route. Empty when unknown; added after the first events were stored,
    /// so older events read back with it empty.
    /// </summary>
    public string Via { get; init; } = "";

    public static Cause Cli(string detail) => new(CauseKind.Cli, detail);

    public static Cause Api(string caller) => new(CauseKind.Api, caller);

    public static Cause System(string detail) => new(CauseKind.System, detail);

    public static Cause Client(string machineKey) => new(CauseKind.Client, machineKey);

    public override string ToString() => $"{Kind}:{Detail}";
}
