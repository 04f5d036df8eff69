using System.Net;

namespace Headscale.Policy.Model;

public enum AliasKind { Wildcard, User, Group, Tag, Host, Prefix, AutoGroup }

/// <summary>
/// One name in a src, dst or target list. <see cref="Text"/> is exactly what the policy wrote.
/// For <see cref="AliasKind.Prefix"/>, <see cref="Prefix"/> holds the parsed network and
/// <see cref="IsSingleAddress"/> says it was written as a bare IP.
/// </summary>
public sealed record Alias(AliasKind Kind, string Text, IPNetwork Prefix = default, bool IsSingleAddress = false)
{
    public const string AutoGroupMember = "autogroup:member";
    public const string AutoGroupTagged = "autogroup:tagged";
    public const string AutoGroupSelf = "autogroup:self";
    public const string AutoGroupInternet = "autogroup:internet";
    public const string AutoGroupDangerAll = "autogroup:danger-all";
    public const string AutoGroupNonRoot = "autogroup:nonroot";

    public bool IsAutoGroup(string name) => Kind == AliasKind.AutoGroup && Text == name;

    /// <summary>Classifies a token by syntax alone; whether it refers to something defined is checked later.</summary>
    public static Alias Parse(string token)
    {
        if (token == "*") return new Alias(AliasKind.Wildcard, token);
        if (token.StartsWith("autogroup:", StringComparison.Ordinal)) return new Alias(AliasKind.AutoGroup, token);
        if (token.StartsWith("group:", StringComparison.Ordinal)) return new Alias(AliasKind.Group, token);
        if (token.StartsWith("tag:", StringComparison.Ordinal)) return new Alias(AliasKind.Tag, token);
        if (TryParsePrefix(token, out var prefix, out var single)) return new Alias(AliasKind.Prefix, token, prefix, single);
        if (token.Contains('@')) return new Alias(AliasKind.User, token.StartsWith("user:", StringComparison.Ordinal) ? token[5..] : token);
        return new Alias(AliasKind.Host, token);
    }

    public static bool TryParsePrefix(string text, out IPNetwork prefix, out bool singleAddress)
    {
        singleAddress = false;
        prefix = default;
        var slash = text.IndexOf('/');
        if (slash < 0)
        {
            if (!IPAddress.TryParse(text, out var ip) || !LooksLikeAddress(text)) return false;
            prefix = new IPNetwork(ip, ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128);
            singleAddress = true;
            return true;
        }
        if (!IPAddress.TryParse(text.AsSpan(0, slash), out var baseIp) || !LooksLikeAddress(text[..slash])) return false;
        if (!int.TryParse(text.AsSpan(slash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var bits)) return false;
        var max = baseIp.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128;
        if (bits > max) return false;
        // IPNetwork requires a masked base address; the policy may write host bits, which Tailscale masks.
        prefix = new IPNetwork(Mask(baseIp, bits), bits);
        return true;
    }

    /// <summary>IPAddress.TryParse accepts forms like "1" or "1.2"; policies only use dotted quads and IPv6 text.</summary>
    private static bool LooksLikeAddress(string text) =>
        text.Contains(':') || text.Count(c => c == '.') == 3;

    public static IPAddress Mask(IPAddress address, int bits)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var keep = Math.Clamp(bits - i * 8, 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - keep));
        }
        return new IPAddress(bytes);
    }
}
