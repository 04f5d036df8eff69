using System.Net;
using System.Net.Sockets;

namespace Headscale.Actors.Addressing;

/// <summary>
/// Picks a free address in a prefix, pure apart from the <see cref="Random"/> it is given. It skips
/// the network and last address of the prefix and Tailscale's reserved addresses: the service IPs
/// 100.100.100.100 and fd7a:115c:a1e0::53 and the ChromeOS VM range 100.115.92.0/23.
/// </summary>
public static class AddressAllocator
{
    /// <summary>Random picks tried before falling back to a scan (which also proves exhaustion).</summary>
    private const int RandomAttempts = 64;

    private static readonly IPAddress ServiceV4 = IPAddress.Parse("100.100.100.100");
    private static readonly IPAddress ServiceV6 = IPAddress.Parse("fd7a:115c:a1e0::53");
    private static readonly IPNetwork ChromeOsVms = IPNetwork.Parse("100.115.92.0/23");

    public static bool IsReserved(IPAddress address) =>
        address.Equals(ServiceV4) || address.Equals(ServiceV6) || ChromeOsVms.Contains(address);

    /// <summary>
    /// Returns a free address of <paramref name="prefix"/> in canonical text, or null when every
    /// address is taken. <paramref name="last"/> is the previous sequential pick ("" for none).
    /// </summary>
    public static string? Allocate(
        IPNetwork prefix, Func<string, bool> isUsed, string last, AllocationStrategy strategy, Random random)
    {
        var bits = prefix.BaseAddress.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var hostBits = bits - prefix.PrefixLength;
        if (hostBits < 2)
        {
            return null;
        }

        var baseValue = ToNumber(prefix.BaseAddress);
        var size = hostBits >= 128 ? UInt128.MaxValue : UInt128.One << hostBits;
        var firstUsable = UInt128.One;
        var lastUsable = size - 2;

        UInt128 start;
        if (strategy == AllocationStrategy.Random)
        {
            for (var attempt = 0; attempt < RandomAttempts; attempt++)
            {
                var candidate = firstUsable + (RandomUInt128(random) % (lastUsable - firstUsable + 1));
                if (TryTake(baseValue + candidate, bits, isUsed) is { } picked)
                {
                    return picked;
                }
            }

            start = firstUsable + (RandomUInt128(random) % (lastUsable - firstUsable + 1));
        }
        else
        {
            start = last.Length > 0 && IPAddress.TryParse(last, out var previous) && prefix.Contains(previous)
                ? ToNumber(previous) - baseValue + 1
                : firstUsable;
            if (start > lastUsable)
            {
                start = firstUsable;
            }
        }

        return Scan(baseValue, bits, start, firstUsable, lastUsable, isUsed);
    }

    private static string? Scan(UInt128 baseValue, int bits, UInt128 start, UInt128 first, UInt128 last, Func<string, bool> isUsed)
    {
        // Walk from start to the end, then wrap to the beginning: one full lap at most. Huge
        // (IPv6) prefixes never get here exhausted in practice, so the lap bound is theoretical.
        for (var offset = start; offset <= last; offset++)
        {
            if (TryTake(baseValue + offset, bits, isUsed) is { } picked)
            {
                return picked;
            }
        }

        for (var offset = first; offset < start; offset++)
        {
            if (TryTake(baseValue + offset, bits, isUsed) is { } picked)
            {
                return picked;
            }
        }

        return null;
    }

    private static string? TryTake(UInt128 value, int bits, Func<string, bool> isUsed)
    {
        var address = FromNumber(value, bits);
        if (IsReserved(address))
        {
            return null;
        }

        var text = address.ToString();
        return isUsed(text) ? null : text;
    }

    private static UInt128 RandomUInt128(Random random) =>
        new((ulong)random.NextInt64(long.MinValue, long.MaxValue), (ulong)random.NextInt64(long.MinValue, long.MaxValue));

    private static UInt128 ToNumber(IPAddress address)
    {
        Span<byte> bytes = stackalloc byte[16];
        address.TryWriteBytes(bytes, out var written);
        UInt128 value = 0;
        for (var i = 0; i < written; i++)
        {
            value = (value << 8) | bytes[i];
        }

        return value;
    }

    private static IPAddress FromNumber(UInt128 value, int bits)
    {
        var length = bits / 8;
        Span<byte> bytes = stackalloc byte[length];
        for (var i = length - 1; i >= 0; i--)
        {
            bytes[i] = (byte)(value & 0xFF);
            value >>= 8;
        }

        return new IPAddress(bytes);
    }
}
