using System.Collections.Immutable;
using System.Text;
using Headscale.Actors.Nodes.Messages;
using Headscale.Actors.Users.Messages;

namespace Headscale.Actors.NetworkMap;

/// <summary>The one mapping from the node entity's state to the network map's <see cref="PeerView"/>.</summary>
public static class PeerViews
{
    private static readonly byte[] EmptyHostinfo = "{}"u8.ToArray();

    /// <summary>
    /// The view of <paramref name="node"/>: addresses as <c>/32</c> and <c>/128</c> prefixes, routes,
    /// tags, Hostinfo bytes (<c>{}</c> before the first report), key expiry and disco key. Online,
    /// endpoints and home DERP are not the entity's to know; the map keeps its own.
    /// </summary>
    public static PeerView From(Node node, string userLogin) => new()
    {
        Id = (long)node.Id.Value,
        UserId = (long)node.User.Value,
        UserLogin = userLogin,
        GivenName = node.GivenName,
        NodeKey = node.NodeKey.Value,
        MachineKey = node.MachineKey.Value,
        DiscoKey = node.DiscoKey.Length > 0 ? node.DiscoKey : null,
        Addresses = AddressesOf(node),
        AnnouncedRoutes = node.AnnouncedRoutes,
        ApprovedRoutes = node.ApprovedRoutes,
        Tags = node.Tags.IsDefault ? [] : node.Tags,
        Hostinfo = node.Hostinfo.Length > 0 ? Encoding.UTF8.GetBytes(node.Hostinfo) : EmptyHostinfo,
        Created = node.CreatedAt,
        KeyExpiry = node.Expiry,
        LastSeen = node.LastSeen,
    };

    /// <summary>
    /// The login shown in user profiles and matched by policies (<c>alice@</c>): the user name. A user
    /// the map has not heard of yet shows its id until it has.
    /// </summary>
    public static string LoginOf(User? user, Headscale.Actors.Users.UserId id) =>
        user is { Name.Length: > 0 } ? user.Name : "user-" + id.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);

    private static ImmutableArray<string> AddressesOf(Node node)
    {
        var addresses = ImmutableArray.CreateBuilder<string>(2);
        if (node.IPv4.Length > 0)
        {
            addresses.Add(node.IPv4 + "/32");
        }

        if (node.IPv6.Length > 0)
        {
            addresses.Add(node.IPv6 + "/128");
        }

        return addresses.ToImmutable();
    }
}
