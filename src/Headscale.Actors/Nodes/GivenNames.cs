using System.Globalization;
using System.Text;

namespace Headscale.Actors.Nodes;

/// <summary>
/// MagicDNS names (given names) from client host names, following Tailscale's rules as Headscale
/// 0.29 applies them: first label only, lower case, apostrophes dropped, every other run of
/// characters outside <c>[a-z0-9]</c> becomes one <c>-</c>, at most 63 characters, and <c>node</c>
/// when nothing is left (<c>Joe's Mac mini</c> → <c>joes-mac-mini</c>). Collisions get <c>-1</c>, <c>-2</c>, ….
/// </summary>
public static class GivenNames
{
    public const int MaxLabelLength = 63;

    public const string Fallback = "node";

    public static string Sanitise(string? hostname)
    {
        if (string.IsNullOrWhiteSpace(hostname))
        {
            return Fallback;
        }

        var label = hostname.Trim();
        var dot = label.IndexOf('.');
        if (dot > 0)
        {
            label = label[..dot];
        }

        var builder = new StringBuilder(Math.Min(label.Length, MaxLabelLength));
        var pendingDash = false;
        foreach (var c in label)
        {
            if (c is '\'' or '\u2019')
            {
                continue;
            }

            var lower = char.ToLowerInvariant(c);
            if (lower is >= 'a' and <= 'z' or >= '0' and <= '9')
            {
                if (pendingDash && builder.Length > 0)
                {
                    builder.Append('-');
                }

                pendingDash = false;
                builder.Append(lower);
            }
            else
            {
                pendingDash = true;
            }
        }

        var name = builder.ToString();
        if (name.Length > MaxLabelLength)
        {
            name = name[..MaxLabelLength].TrimEnd('-');
        }

        return name.Length == 0 ? Fallback : name;
    }

    /// <summary>True when <paramref name="name"/> is already a valid given name (what a rename must pass).</summary>
    public static bool IsValid(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= MaxLabelLength && Sanitise(name) == name;

    /// <summary>The first of <c>base</c>, <c>base-1</c>, <c>base-2</c>, … that is not taken, trimmed to fit 63 characters.</summary>
    /// <param name="baseName">The sanitised host name.</param>
    /// <param name="isTaken">Whether a name is in use.</param>
    /// <param name="firstSuffix">Where to start numbering: the registry passes one above the highest suffix it has
    /// handed out for this base, so a thousand nodes called <c>localhost</c> do not make each registration scan.</param>
    public static string Unique(string baseName, Func<string, bool> isTaken, int firstSuffix = 1)
    {
        if (!isTaken(baseName))
        {
            return baseName;
        }

        for (var n = Math.Max(1, firstSuffix); ; n++)
        {
            var suffix = "-" + n.ToString(CultureInfo.InvariantCulture);
            var head = baseName.Length + suffix.Length > MaxLabelLength
                ? baseName[..(MaxLabelLength - suffix.Length)].TrimEnd('-')
                : baseName;
            var candidate = head + suffix;
            if (!isTaken(candidate))
            {
                return candidate;
            }
        }
    }
}

internal static class GivenNameSuffix
{
    /// <summary>Splits <c>name-N</c> into its base and N; false for a name without a numeric suffix.</summary>
    public static bool TrySplit(string name, out string baseName, out int suffix)
    {
        baseName = name;
        suffix = 0;
        var dash = name.LastIndexOf('-');
        return dash > 0
            && int.TryParse(name.AsSpan(dash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out suffix)
            && (baseName = name[..dash]).Length > 0;
    }
}
