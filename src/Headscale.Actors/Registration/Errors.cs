namespace Headscale.Actors;

/// <summary>
/// The error catalogue: every message a client or admin can see for an expected failure. The
/// control-protocol texts are what Tailscale clients print, so they follow Headscale's wording.
/// </summary>
public static class Errors
{
    /// <summary>The pre-auth key is malformed, unknown, or its secret does not match.</summary>
    public const string InvalidPreAuthKey = "invalid pre auth key";

    /// <summary>The pre-auth key's expiration has passed (or it was expired by an admin).</summary>
    public const string PreAuthKeyExpired = "authkey expired";

    /// <summary>A single-use pre-auth key was already used to register a node.</summary>
    public const string PreAuthKeyUsed = "authkey already used";

    /// <summary>The user a key or command refers to does not exist (or was deleted).</summary>
    public const string UserNotFound = "user not found";

    /// <summary>No node has the given id or key.</summary>
    public const string NodeNotFound = "node not found";

    /// <summary>The node key in the request belongs to a node of another machine key.</summary>
    public const string NodeKeyOfOtherMachine = "node key belongs to another machine";

    /// <summary>The client asked for a later expiry than its node has; only the server extends keys.</summary>
    public const string ExtendingKeyNotAllowed = "extending key is not allowed";

    /// <summary>Every address of a configured prefix is in use.</summary>
    public const string AddressesExhausted = "no IP addresses left to allocate";

    /// <summary>The interactive registration id is unknown or its 15 minutes have passed.</summary>
    public const string RegistrationNotFound = "registration not found or expired";

    /// <summary>A user name is already taken.</summary>
    public const string UserExists = "user already exists";

    /// <summary>A user still owns nodes and cannot be deleted.</summary>
    public const string UserHasNodes = "user still owns nodes";

    /// <summary>A given name is already used by another node.</summary>
    public const string GivenNameTaken = "given name already in use";
}
