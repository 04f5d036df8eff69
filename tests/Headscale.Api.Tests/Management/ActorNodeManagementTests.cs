using Xunit;
using Headscale.Actors.Nodes;
using Headscale.Api.Management;
using Headscale.Management.V1;
using Microsoft.Extensions.DependencyInjection;

namespace Headscale.Api.Tests.Management;

/// <summary>SetTags, SetApprovedRoutes, MoveNode, BackfillNodeIPs and DebugCreateNode against the real actor layer.</summary>
public sealed class ActorNodeManagementTests(ActorBackendHost host) : IClassFixture<ActorBackendHost>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task SetTags_replaces_the_tags_and_refuses_a_bad_tag_or_an_unknown_node()
    {
        var (_, node) = await host.NodeAsync("tags");

        var tagged = await host.Nodes.SetTagsAsync(new SetTagsRequest { NodeId = node.Id.Value, Tags = { "tag:web", "tag:db" } }, Ct);
        var bad = await host.Nodes.SetTagsAsync(new SetTagsRequest { NodeId = node.Id.Value, Tags = { "tag:ok", "Web" } }, Ct);
        var unknown = await host.Nodes.SetTagsAsync(new SetTagsRequest { NodeId = ulong.MaxValue, Tags = { "tag:web" } }, Ct);

        Assert.Equal(["tag:db", "tag:web"], tagged.Value.Node.Tags);
        Assert.Equal(["tag:db", "tag:web"], tagged.Value.Node.ForcedTags);
        Assert.Equal((ManagementErrorCode.InvalidArgument, "tags: 'Web' is not a valid tag: it must start with 'tag:'"), (bad.Error!.Code, bad.Error.Message));
        Assert.Equal(ManagementErrorCode.NotFound, unknown.Error!.Code);
        var after = await host.Nodes.GetNodeAsync(new GetNodeRequest { NodeId = node.Id.Value }, Ct);
        Assert.Equal(["tag:db", "tag:web"], after.Value.Node.Tags);
    }

    [Fact]
    public async Task SetApprovedRoutes_shows_approved_available_and_served_exit_routes()
    {
        var (_, node) = await host.NodeAsync("routes");
        var nodes = host.Services.GetRequiredService<INodeService>();
        var hostinfo = """{"Hostname":"routes","RoutableIPs":["10.5.0.0/16","0.0.0.0/0","::/0"]}""";
        await nodes.ReportClientStateAsync(node.Id, new ClientReport(hostinfo, "routes", ["10.5.0.0/16", "0.0.0.0/0", "::/0"], null), DateTimeOffset.UtcNow, Ct);

        var approved = await host.Nodes.SetApprovedRoutesAsync(new SetApprovedRoutesRequest { NodeId = node.Id.Value, Routes = { "::/0", "10.5.0.0/16" } }, Ct);
        var bad = await host.Nodes.SetApprovedRoutesAsync(new SetApprovedRoutesRequest { NodeId = node.Id.Value, Routes = { "10.5.0.0/16", "10.5.0.0/40" } }, Ct);

        Assert.Equal(["0.0.0.0/0", "10.5.0.0/16", "::/0"], approved.Value.Node.ApprovedRoutes);
        Assert.Equal(["0.0.0.0/0", "10.5.0.0/16", "::/0"], approved.Value.Node.AvailableRoutes);
        Assert.Equal(ManagementErrorCode.InvalidArgument, bad.Error!.Code);
        Assert.StartsWith("routes: '10.5.0.0/40'", bad.Error.Message);

        // Listed nodes show what they serve: exit routes at once, subnet routes once primary (which needs the node online).
        var listed = await EventuallyListedAsync(node.Id, n => n.SubnetRoutes.Count > 0);
        Assert.Equal(["0.0.0.0/0", "::/0"], listed.SubnetRoutes);
        Assert.Equal(["0.0.0.0/0", "10.5.0.0/16", "::/0"], listed.ApprovedRoutes);
        Assert.False(listed.Online);
    }

    [Fact]
    public async Task MoveNode_gives_the_node_to_an_existing_user_only()
    {
        var (_, node) = await host.NodeAsync("move");
        var (target, _) = await host.NodeAsync("move-target");

        var unknown = await host.Nodes.MoveNodeAsync(new MoveNodeRequest { NodeId = node.Id.Value, User = ulong.MaxValue }, Ct);
        Assert.Equal(ManagementErrorCode.NotFound, unknown.Error!.Code);
        Assert.StartsWith("user:", unknown.Error.Message);

        var moved = await host.Nodes.MoveNodeAsync(new MoveNodeRequest { NodeId = node.Id.Value, User = target.Id.Value }, Ct);
        Assert.Equal(target.Name, moved.Value.Node.User.Name);
        var ofTarget = await host.Nodes.ListNodesAsync(new ListNodesRequest { User = target.Name }, Ct);
        Assert.Contains(ofTarget.Value.Nodes, n => n.Id == node.Id.Value);
    }

    [Fact]
    public async Task BackfillNodeIPs_needs_confirmation_and_changes_nothing_when_every_node_has_both_addresses()
    {
        await host.NodeAsync("backfill");

        var unconfirmed = await host.Nodes.BackfillNodeIPsAsync(new BackfillNodeIPsRequest { Confirmed = false }, Ct);
        var confirmed = await host.Nodes.BackfillNodeIPsAsync(new BackfillNodeIPsRequest { Confirmed = true }, Ct);

        Assert.Equal(ManagementErrorCode.InvalidArgument, unconfirmed.Error!.Code);
        Assert.Contains("confirmed", unconfirmed.Error.Message);
        Assert.Empty(confirmed.Value.Changes);
    }

    [Fact]
    public async Task DebugCreateNode_puts_a_registration_that_nodes_register_completes()
    {
        var (user, _) = await host.NodeAsync("debug");
        var key = System.Security.Cryptography.RandomNumberGenerator.GetString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 24);

        var badKey = await host.Nodes.DebugCreateNodeAsync(new DebugCreateNodeRequest { User = user.Name, Key = "short", Name = "dbg" }, Ct);
        var badRoute = await host.Nodes.DebugCreateNodeAsync(new DebugCreateNodeRequest { User = user.Name, Key = key, Name = "dbg", Routes = { "nope" } }, Ct);
        var noUser = await host.Nodes.DebugCreateNodeAsync(new DebugCreateNodeRequest { User = "nobody-" + key, Key = key, Name = "dbg" }, Ct);
        Assert.Equal((ManagementErrorCode.InvalidArgument, true), (badKey.Error!.Code, badKey.Error.Message.StartsWith("key:", StringComparison.Ordinal)));
        Assert.Equal((ManagementErrorCode.InvalidArgument, true), (badRoute.Error!.Code, badRoute.Error.Message.StartsWith("routes:", StringComparison.Ordinal)));
        Assert.Equal((ManagementErrorCode.NotFound, true), (noUser.Error!.Code, noUser.Error.Message.StartsWith("user:", StringComparison.Ordinal)));
        Assert.Null(await host.Services.GetRequiredService<INodeService>().GetPendingAsync(key, Ct));

        var created = await host.Nodes.DebugCreateNodeAsync(new DebugCreateNodeRequest { User = user.Name, Key = key, Name = "dbg", Routes = { "10.6.0.0/24" } }, Ct);
        Assert.Equal("dbg", created.Value.Node.Name);
        Assert.Equal(user.Name, created.Value.Node.User.Name);
        var duplicate = await host.Nodes.DebugCreateNodeAsync(new DebugCreateNodeRequest { User = user.Name, Key = key, Name = "dbg" }, Ct);
        Assert.Equal(ManagementErrorCode.AlreadyExists, duplicate.Error!.Code);

        var registered = await host.Nodes.RegisterNodeAsync(new RegisterNodeRequest { User = user.Name, Key = key }, Ct);
        Assert.Equal(created.Value.Node.MachineKey, registered.Value.Node.MachineKey);
        var stored = await host.Nodes.GetNodeAsync(new GetNodeRequest { NodeId = registered.Value.Node.Id }, Ct);
        Assert.Equal(["10.6.0.0/24"], stored.Value.Node.AvailableRoutes);
    }

    private async Task<Node> EventuallyListedAsync(NodeId id, Func<Node, bool> condition)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TimeSpan.FromSeconds(20));
        while (true)
        {
            var listed = (await host.Nodes.ListNodesAsync(new ListNodesRequest(), cts.Token)).Value.Nodes.Single(n => n.Id == id.Value);
            if (condition(listed))
            {
                return listed;
            }

            await Task.Delay(20, cts.Token);
        }
    }
}
