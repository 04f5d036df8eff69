using System.Net;
using Headscale.Policy.Model;

namespace Headscale.Policy.Testing;

/// <summary>Matches an address against a wire address string: "*", an IP, a CIDR or an inclusive "a-b" range.</summary>
public static class AddressMatcher
{
    public static bool Matches(string pattern, IPAddress address)
    {
        if (pattern == "*") return true;
        var dash = pattern.IndexOf('-');
        if (dash > 0 && IPAddress.TryParse(pattern.AsSpan(0, dash), out var lo) && IPAddress.TryParse(pattern.AsSpan(dash + 1), out var hi))
        {
            if (lo.AddressFamily != address.AddressFamily) return false;
            var a = new UInt128Compare(address);
            return a.CompareTo(new UInt128Compare(lo)) >= 0 && a.CompareTo(new UInt128Compare(hi)) <= 0;
        }
        return Alias.TryParsePrefix(pattern, out var prefix, out _)
            && prefix.BaseAddress.AddressFamily == address.AddressFamily && prefix.Contains(address);
    }

    private readonly struct UInt128Compare(IPAddress address) : IComparable<UInt128Compare>
    {
        private readonly byte[] _bytes = address.GetAddressBytes();

        public int CompareTo(UInt128Compare other) => _bytes.AsSpan().SequenceCompareTo(other._bytes);
    }
}
