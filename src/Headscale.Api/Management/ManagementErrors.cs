namespace Headscale.Api.Management;

/// <summary>
/// Catalogue of error messages whose exact wording clients depend on. Headplane matches
/// substrings of these (headplane-api.md, "Policy error handling"), so change none of them.
/// </summary>
public static class ManagementErrors
{
    /// <summary>GET policy with no stored policy; Headplane then shows an empty, editable policy.</summary>
    public const string PolicyNotFound = "acl policy not found";

    /// <summary>PUT policy while <c>policy.mode</c> is not <c>database</c>; Headplane shows "Policy is not writable".</summary>
    public const string PolicyUpdateDisabled = "update is disabled for modes other than 'database'";

    /// <summary>Prefix of a policy syntax error (0.27 wording); Headplane shows a friendly syntax error.</summary>
    public const string PolicyHuJsonParsePrefix = "parsing HuJSON: ";

    /// <summary>Prefix of a policy that parsed as HuJSON but not as a policy (0.27 wording).</summary>
    public const string PolicyDecodePrefix = "parsing policy from bytes: ";

    /// <summary>
    /// ListPreAuthKeys without a user on 0.27 fails like this (gRPC Unknown, HTTP 500); Headplane
    /// then falls back to one call per user. An empty 200 would hide every key from it.
    /// </summary>
    public const string RecordNotFound = "record not found";

    /// <summary>Body of every REST request refused by API-key authentication (HTTP 401).</summary>
    public const string Unauthorized = "Unauthorized";
}
