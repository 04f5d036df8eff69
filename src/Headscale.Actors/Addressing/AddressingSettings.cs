using System.Net;

namespace Headscale.Actors.Addressing;

/// <summary>How node addresses are picked from a prefix (config <c>prefixes.allocation</c>).</summary>
public enum AllocationStrategy
{
    Sequential = 0,
    Random = 1,
}

/// <summary>The tailnet prefixes (config <c>prefixes.v4</c>/<c>prefixes.v6</c>); either may be absent but not both.</summary>
public sealed record AddressingSettings(IPNetwork? V4, IPNetwork? V6, AllocationStrategy Strategy)
{
    public static readonly AddressingSettings Default = new(
        IPNetwork.Parse("100.64.0.0/10"), IPNetwork.Parse("fd7a:115c:a1e0::/48"), AllocationStrategy.Sequential);
}
