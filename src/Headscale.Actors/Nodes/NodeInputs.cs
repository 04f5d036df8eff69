using System.Collections.Immutable;
using System.Net;

namespace Headscale.Actors.Nodes;

/// <summary>
/// Validation and canonical forms of what admins and clients send about a node: route prefixes,
/// tags and disco keys. Each failure message names the field and the offending value.
/// </summary>
public static class NodeInputs
{
    public const string ExitRouteV4 = "0.0.0.0/0";

    public const string ExitRouteV6 = "::/0";

    public const string TagPrefix = "tag:";

    /// <summary>Longest tag accepted (a policy alias, not a DNS label; bounded to keep the journal sane).</summary>
    public const int MaxTagLength = 255;

    /// <summary>Most routes or tags accepted in one request.</summary>
    public const int MaxItems = 1024;

    /// <summary>
    /// Parses prefixes into canonical text (<c>10.0.0.0/24</c>, compressed lower-case IPv6), sorted and
    /// without duplicates. Host bits are accepted, as Go's <c>netip.ParsePrefix</c> accepts them, and
    /// masked off (<c>10.0.0.1/24</c> → <c>10.0.0.0/24</c>) so approved and announced routes compare equal.
    /// </summary>
    public static bool TryNormaliseRoutes(IEnumerable<string> routes, string field, out ImmutableArray<string> normalised, out string error)
    {
        normalised = [];
        error = "";
        var set = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var route in routes)
        {
            if (set.Count >= MaxItems)
            {
                error = $"{field}: more than {MaxItems} routes";
                return false;
            }

            var text = route.AsSpan().Trim();
            if (!text.Contains('/') || text.Contains('%') || !IPNetwork.TryParse(text, out var prefix))
            {
                error = $"{field}: '{route}' is not an IP prefix such as 10.0.0.0/24 or fd00::/64";
                return false;
            }

            set.Add(prefix.ToString());
        }

        normalised = [.. set];
        return true;
    }

    /// <summary>Approving either exit route approves both (Headscale 0.27 <c>SetApprovedRoutes</c>).</summary>
    public static ImmutableArray<string> WithBothExitRoutes(ImmutableArray<string> routes) =>
        routes.Contains(ExitRouteV4) || routes.Contains(ExitRouteV6)
            ? [.. routes.Union([ExitRouteV4, ExitRouteV6], StringComparer.Ordinal).Order(StringComparer.Ordinal)]
            : routes;

    /// <summary>Checks admin tags: <c>tag:</c> followed by a non-empty lower-case name with no white space. Sorted, duplicates removed.</summary>
    public static bool TryNormaliseTags(IEnumerable<string> tags, string field, out ImmutableArray<string> normalised, out string error)
    {
        normalised = [];
        error = "";
        var set = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var tag in tags)
        {
            if (set.Count >= MaxItems)
            {
                error = $"{field}: more than {MaxItems} tags";
                return false;
            }

            if (TagProblem(tag) is { } problem)
            {
                error = $"{field}: '{tag}' is not a valid tag: {problem}";
                return false;
            }

            set.Add(tag);
        }

        normalised = [.. set];
        return true;
    }

    /// <summary>True for <c>discokey:</c> followed by exactly 64 hex digits.</summary>
    public static bool IsDiscoKey(string? text) =>
        text is { Length: DiscoKeyPrefixLength + 64 }
        && text.StartsWith("discokey:", StringComparison.Ordinal)
        && !text.AsSpan(DiscoKeyPrefixLength).ContainsAnyExcept("0123456789abcdefABCDEF");

    private const int DiscoKeyPrefixLength = 9;

    private static string? TagProblem(string? tag)
    {
        if (tag is null || !tag.StartsWith(TagPrefix, StringComparison.Ordinal))
        {
            return "it must start with 'tag:'";
        }

        if (tag.Length == TagPrefix.Length)
        {
            return "the name after 'tag:' is empty";
        }

        if (tag.Length > MaxTagLength)
        {
            return $"it is longer than {MaxTagLength} characters";
        }

        foreach (var c in tag)
        {
            if (char.IsWhiteSpace(c) || char.IsControl(c))
            {
                return "it must not contain spaces";
            }

            if (char.IsUpper(c))
            {
                return "it must be lower case";
            }
        }

        return null;
    }
}
