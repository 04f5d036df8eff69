using Headscale.Actors.Nodes;
using Headscale.Actors.Nodes.Messages;

namespace Headscale.Actors.Registration;

/// <summary>
/// A validated <c>RegisterRequest</c>, converted from the wire DTO at the edge.
/// <paramref name="Expiry"/> is null for Go's zero time; <paramref name="AuthKey"/> and
/// <paramref name="Followup"/> are empty when absent.
/// </summary>
public sealed record RegisterRequestModel(
    NodeKey NodeKey,
    NodeKey OldNodeKey,
    string AuthKey,
    DateTimeOffset? Expiry,
    string Followup,
    string Hostname,
    bool Ephemeral);

/// <summary>The owner shown to the client (<c>RegisterResponse.User</c> and <c>.Login</c>).</summary>
public sealed record RegisteredLogin(long Id, string LoginName, string DisplayName)
{
    /// <summary>Tagged nodes are shown as owned by this synthetic user, as Headscale does.</summary>
    public static readonly RegisteredLogin TaggedDevices = new(2147455555, "tagged-devices", "Tagged Devices");
}

/// <summary>
/// What to answer a <c>RegisterRequest</c>. <paramref name="StatusCode"/> is 200 for every
/// protocol outcome (errors in <paramref name="Error"/>); 400 and 401 only where Headscale uses them.
/// </summary>
public sealed record RegisterOutcome(
    int StatusCode,
    string Error,
    string AuthUrl,
    bool MachineAuthorized,
    bool NodeKeyExpired,
    RegisteredLogin? Login,
    Node? Node)
{
    public static RegisterOutcome Failed(string error, int statusCode = 200) => new(statusCode, error, "", false, false, null, null);

    public static RegisterOutcome NeedsAuth(string authUrl) => new(200, "", authUrl, false, false, null, null);
}
