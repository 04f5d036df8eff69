using System.Collections.Immutable;
using System.Net;

namespace Headscale.Policy.Snapshot;

/// <summary>A user of the tailnet. <see cref="Email"/> is the login that policies name (<c>odin@example.com</c>).</summary>
public sealed record TailnetUser(ulong Id, string Name, string Email);

/// <summary>
/// A node as the policy engine sees it. Tagged nodes have no owner (<see cref="UserEmail"/> is null).
/// <see cref="RegistrationOrder"/> decides high-availability elections: the lowest order wins.
/// </summary>
public sealed record TailnetNode(
    ulong Id,
    string Name,
    string? UserEmail,
    ImmutableArray<string> Tags,
    IPAddress? IPv4,
    IPAddress? IPv6,
    ImmutableArray<IPNetwork> AnnouncedRoutes,
    ImmutableArray<IPNetwork> ApprovedRoutes,
    long RegistrationOrder)
{
    public bool IsTagged => !Tags.IsDefaultOrEmpty;

    /// <summary>True when the node both announces and has been approved for an exit route.</summary>
    public bool IsApprovedExitNode => ApprovedRoutes.Any(Routes.IsExitRoute);

    public IEnumerable<IPAddress> Addresses
    {
        get
        {
            if (IPv4 is not null) yield return IPv4;
            if (IPv6 is not null) yield return IPv6;
        }
    }

    public bool HasAddress(IPAddress address) => address.Equals(IPv4) || address.Equals(IPv6);
}

/// <summary>
/// An immutable view of the tailnet that a policy is compiled against. The actor layer builds a new
/// snapshot for every change; compiling is a pure function of (policy, snapshot).
/// </summary>
public sealed record TailnetSnapshot(
    ImmutableArray<TailnetUser> Users,
    ImmutableArray<TailnetNode> Nodes,
    ImmutableArray<string> AssociatedDomains)
{
    /// <summary>Tailnet setting "auto-update devices by default"; sent to every node as <c>default-auto-update</c>.</summary>
    public bool DevicesAutoUpdate { get; init; }

    /// <summary>The owner's login (the tailnet name); <c>autogroup:owner</c> resolves to this user's devices.</summary>
    public string? OwnerEmail { get; init; }

    public static TailnetSnapshot Empty { get; } = new([], [], []);
}

public static class Routes
{
    public static readonly IPNetwork AllIPv4 = IPNetwork.Parse("0.0.0.0/0");
    public static readonly IPNetwork AllIPv6 = IPNetwork.Parse("::/0");

    public static bool IsExitRoute(IPNetwork route) => route.PrefixLength == 0;

    public static bool Overlaps(IPNetwork a, IPNetwork b)
    {
        if (a.BaseAddress.AddressFamily != b.BaseAddress.AddressFamily) return false;
        return a.PrefixLength <= b.PrefixLength ? a.Contains(b.BaseAddress) : b.Contains(a.BaseAddress);
    }
}
