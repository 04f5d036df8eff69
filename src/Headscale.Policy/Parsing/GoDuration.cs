using Headscale.Policy.Model;
using System.Globalization;
using System.Text;

namespace Headscale.Policy.Parsing;

/// <summary>
/// Go's duration syntax ("1h30m", "90s", "1.5h"), which policies use for <c>checkPeriod</c>; errors and
/// formatting follow Go's <c>time</c> package because the service's messages quote them.
/// </summary>
public static class GoDuration
{
    private static readonly (string Unit, long Nanos)[] Units =
    [
        ("ns", 1), ("us", 1_000), ("µs", 1_000), ("μs", 1_000), ("ms", 1_000_000),
        ("s", 1_000_000_000), ("m", 60_000_000_000), ("h", 3_600_000_000_000),
    ];

    public static bool TryParse(string text, out TimeSpan value, out string? error)
    {
        value = default;
        error = $"time: invalid duration {DestinationParser.Quote(text)}";
        var s = text.AsSpan();
        var negative = false;
        if (s.Length > 0 && (s[0] == '-' || s[0] == '+')) { negative = s[0] == '-'; s = s[1..]; }
        if (s.SequenceEqual("0")) { error = null; return true; }
        if (s.IsEmpty) return false;
        decimal total = 0;
        while (!s.IsEmpty)
        {
            var i = 0;
            while (i < s.Length && (char.IsAsciiDigit(s[i]) || s[i] == '.')) i++;
            if (i == 0 || !decimal.TryParse(s[..i], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number)) return false;
            s = s[i..];
            var j = 0;
            while (j < s.Length && !char.IsAsciiDigit(s[j]) && s[j] != '.') j++;
            if (j == 0) { error = $"time: missing unit in duration {DestinationParser.Quote(text)}"; return false; }
            var unit = s[..j].ToString();
            var match = Units.FirstOrDefault(u => u.Unit == unit);
            if (match.Unit is null) { error = $"time: unknown unit {DestinationParser.Quote(unit)} in duration {DestinationParser.Quote(text)}"; return false; }
            total += number * match.Nanos;
            s = s[j..];
        }
        if (total > long.MaxValue) return false;
        value = TimeSpan.FromTicks((long)(total / 100) * (negative ? -1 : 1));
        error = null;
        return true;
    }

    /// <summary>Formats like Go's <c>Duration.String()</c>: "168h0m1s", "1h0m0s", "1.5s", "0s".</summary>
    public static string Format(TimeSpan d)
    {
        if (d == TimeSpan.Zero) return "0s";
        var sb = new StringBuilder();
        if (d < TimeSpan.Zero) { sb.Append('-'); d = d.Negate(); }
        if (d < TimeSpan.FromSeconds(1)) return sb.Append(d.TotalMilliseconds.ToString(CultureInfo.InvariantCulture)).Append("ms").ToString();
        var hours = (long)d.TotalHours;
        var minutes = d.Minutes;
        var seconds = d.Seconds + d.Ticks % TimeSpan.TicksPerSecond / (double)TimeSpan.TicksPerSecond;
        if (hours > 0) sb.Append(hours).Append('h');
        if (hours > 0 || minutes > 0) sb.Append(minutes).Append('m');
        sb.Append(seconds.ToString(CultureInfo.InvariantCulture)).Append('s');
        return sb.ToString();
    }
}
