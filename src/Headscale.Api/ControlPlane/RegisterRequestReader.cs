using System.Globalization;
using Headscale.Actors.Nodes;
using Headscale.Actors.Registration;

namespace Headscale.Api.ControlPlane;

/// <summary>Turns a wire <see cref="RegisterRequest"/> into the domain's model, naming the first field that is wrong.</summary>
public static class RegisterRequestReader
{
    /// <summary>Longest host name kept (a DNS name is at most 253; clients send short ones).</summary>
    public const int MaxHostnameLength = 255;

    /// <summary>Longest pre-auth key or follow-up URL accepted; real ones are under 100 and 200 characters.</summary>
    public const int MaxTextLength = 2048;

    public static bool TryRead(RegisterRequest wire, out RegisterRequestModel model, out string error)
    {
        model = null!;
        if (!NodeKey.TryParse(wire.NodeKey, out var nodeKey))
        {
            error = wire.NodeKey is null ? "NodeKey is missing" : "NodeKey is not 'nodekey:' followed by 64 hex digits";
            return false;
        }

        var oldNodeKey = NodeKey.Zero;
        if (!string.IsNullOrEmpty(wire.OldNodeKey) && !NodeKey.TryParse(wire.OldNodeKey, out oldNodeKey))
        {
            error = "OldNodeKey is not 'nodekey:' followed by 64 hex digits";
            return false;
        }

        if (!TryParseExpiry(wire.Expiry, out var expiry))
        {
            error = "Expiry is not an RFC 3339 time";
            return false;
        }

        var authKey = wire.Auth?.AuthKey ?? "";
        var followup = wire.Followup ?? "";
        var hostname = wire.Hostinfo?.Hostname ?? "";
        if (authKey.Length > MaxTextLength || followup.Length > MaxTextLength)
        {
            error = authKey.Length > MaxTextLength ? "Auth.AuthKey is too long" : "Followup is too long";
            return false;
        }

        if (hostname.Length > MaxHostnameLength || hostname.Any(char.IsControl))
        {
            error = $"Hostinfo.Hostname must be at most {MaxHostnameLength} characters without control characters";
            return false;
        }

        model = new RegisterRequestModel(nodeKey, oldNodeKey, authKey, expiry, followup, hostname, wire.Ephemeral);
        error = "";
        return true;
    }

    /// <summary>
    /// Parses Go's RFC 3339 text: any offset, up to 9 fractional digits (truncated to .NET's 7).
    /// Go's zero time (year 1) and an absent value mean "no expiry requested".
    /// </summary>
    public static bool TryParseExpiry(string? text, out DateTimeOffset? expiry)
    {
        expiry = null;
        if (string.IsNullOrEmpty(text))
        {
            return true;
        }

        var normalised = TrimFraction(text);
        if (!DateTimeOffset.TryParseExact(normalised, ["yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd'T'HH:mm:ssK"],
                CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
        {
            return false;
        }

        expiry = parsed.UtcDateTime.Year <= 1 ? null : parsed;
        return true;
    }

    private static string TrimFraction(string text)
    {
        var dot = text.IndexOf('.', StringComparison.Ordinal);
        if (dot < 0)
        {
            return text;
        }

        var end = dot + 1;
        while (end < text.Length && char.IsAsciiDigit(text[end]))
        {
            end++;
        }

        return end - dot - 1 > 7 ? string.Concat(text.AsSpan(0, dot + 8), text.AsSpan(end)) : text;
    }
}
