using System.Globalization;
using Headscale.Management.V1;

namespace Headscale.Api.Cli.Management;

/// <summary>The human tables of <c>nodes list</c> and <c>nodes list-routes</c>, with Headscale's columns.</summary>
public static class NodeTables
{
    public static TextTable Nodes(IEnumerable<Node> nodes, DateTimeOffset now, bool withTags)
    {
        string[] headers = ["ID", "Hostname", "Name", "MachineKey", "NodeKey", "User", "IP addresses", "Ephemeral", "Last seen", "Expiration", "Connected", "Expired"];
        var table = new TextTable(withTags ? [.. headers, "ForcedTags", "InvalidTags", "ValidTags"] : headers);
        foreach (var node in nodes)
        {
            string[] cells =
            [
                Id(node),
                node.Name,
                node.GivenName,
                ProtoOutput.ShortKey(node.MachineKey),
                ProtoOutput.ShortKey(node.NodeKey),
                node.User?.Name ?? "",
                ProtoOutput.Join(node.IpAddresses),
                ProtoOutput.YesNo(node.PreAuthKey?.Ephemeral ?? false),
                ProtoOutput.Time(node.LastSeen),
                ProtoOutput.Time(node.Expiry),
                node.Online ? "online" : "offline",
                ProtoOutput.HasExpired(node.Expiry, now) ? "yes" : "no",
            ];
            table.Add(withTags
                ? [.. cells, ProtoOutput.Join(node.ForcedTags), ProtoOutput.Join(node.InvalidTags), ProtoOutput.Join(node.ValidTags)]
                : cells);
        }

        return table;
    }

    public static TextTable Routes(IEnumerable<Node> nodes)
    {
        var table = new TextTable("ID", "Hostname", "Approved", "Available", "Serving (Primary)");
        foreach (var node in nodes)
        {
            table.Add(Id(node), node.GivenName, ProtoOutput.Join(node.ApprovedRoutes), ProtoOutput.Join(node.AvailableRoutes), ProtoOutput.Join(node.SubnetRoutes));
        }

        return table;
    }

    private static string Id(Node node) => node.Id.ToString(CultureInfo.InvariantCulture);
}
