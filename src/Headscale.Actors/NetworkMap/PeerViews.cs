using System.Collections.Immutable;
using System.Text;
using System.Text.Json;
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
    /// endpoints are not the entity's to know; the map keeps its own. The home DERP region is read from
    /// the stored Hostinfo (<c>NetInfo.PreferredDERP</c>), so hosts without the node's stream know it too.
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
        HomeDerp = PreferredDerpOf(node.Hostinfo),
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

    private static int PreferredDerpOf(string hostinfo)
    {
        if (hostinfo.Length == 0)
        {
            return 0;
        }

        try
        {
            using var document = JsonDocument.Parse(hostinfo);
            return document.RootElement.ValueKind == JsonValueKind.Object
                && document.RootElement.TryGetProperty("NetInfo", out var netInfo)
                && netInfo.ValueKind == JsonValueKind.Object
                && netInfo.TryGetProperty("PreferredDERP", out var derp)
                && derp.TryGetInt32(out var region)
                ? region
                : 0;
        }
        catch (JsonException)
        {
            // Stored Hostinfo is validated JSON; a journal edited by hand must not stop the map.
            return 0;
        }
    }

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
