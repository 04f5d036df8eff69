using System.Text.Json;
using Headscale.Management.V1;
using Xunit;

namespace Headscale.Api.Tests.Cli;

[Collection(CliCollection.Name)]
public sealed class NodeCommandTests(CliHarness cli)
{
    [Fact]
    public async Task List_prints_headscales_node_columns()
    {
        var run = await cli.RunAsync("nodes", "list");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(3, run.Lines.Length);
        Assert.Equal(
            ["ID", "Hostname", "Name", "MachineKey", "NodeKey", "User", "IP addresses", "Ephemeral", "Last seen", "Expiration", "Connected", "Expired"],
            Cells(run.Lines[0]));
        Assert.Equal(
            ["1", "laptop", "laptop", "[qqqqq]", "[u7u7u]", "alice", "100.64.0.1, fd7a:115c:a1e0::1", "false", "2026-01-03 04:05:06", "N/A", "online", "no"],
            Cells(run.Lines[1]));
        Assert.Equal(["2", "server", "server", "", "[3d3d3]", "", "", "false", "N/A", "N/A", "offline", "no"], Cells(run.Lines[2]));
        Assert.All(run.Lines, line => Assert.Equal(run.Lines[0].IndexOf('|', StringComparison.Ordinal), line.IndexOf('|', StringComparison.Ordinal)));
    }

    [Fact]
    public async Task List_with_tags_adds_the_tag_columns_and_filters_by_user()
    {
        var run = await cli.RunAsync("machines", "ls", "-t", "-u", "alice");

        Assert.Equal(["ForcedTags", "InvalidTags", "ValidTags"], Cells(run.Lines[0])[^3..]);
        Assert.Equal(["", "", "tag:web"], Cells(run.Lines[1])[^3..]);
        Assert.Equal(["tag:server", "", ""], Cells(run.Lines[2])[^3..]);
        Assert.Equal("alice", Assert.IsType<ListNodesRequest>(cli.Facades.LastRequest).User);
    }

    [Fact]
    public async Task List_as_json_keeps_the_rest_field_names()
    {
        var run = await cli.RunAsync("node", "list", "-o", "json");

        using var doc = JsonDocument.Parse(run.Stdout);
        var laptop = doc.RootElement[0];
        Assert.Equal("1", laptop.GetProperty("id").GetString());
        Assert.Equal("fd7a:115c:a1e0::1", laptop.GetProperty("ipAddresses")[1].GetString());
        Assert.Equal("REGISTER_METHOD_AUTH_KEY", laptop.GetProperty("registerMethod").GetString());
        Assert.Equal("mkey:" + new string('a', 64), laptop.GetProperty("machineKey").GetString());
        Assert.Equal(JsonValueKind.Null, doc.RootElement[1].GetProperty("user").ValueKind);
    }

    [Fact]
    public async Task Register_sends_user_name_and_key_and_shows_server_errors_as_one_line()
    {
        var ok = await cli.RunAsync("nodes", "register", "-u", "alice", "-k", "AbCdEfGhIjKlMnOpQrStUvWx");
        var request = Assert.IsType<RegisterNodeRequest>(cli.Facades.LastRequest);
        var unknown = await cli.RunAsync("nodes", "register", "-u", "nobody", "-k", "AbCdEfGhIjKlMnOpQrStUvWx");
        var unknownJson = await cli.RunAsync("nodes", "register", "-u", "nobody", "-k", "k", "-o", "json");

        Assert.Equal(0, ok.ExitCode);
        Assert.Equal("Node laptop registered\n", ok.Stdout);
        Assert.Equal(("alice", "AbCdEfGhIjKlMnOpQrStUvWx"), (request.User, request.Key));
        Assert.Equal(1, unknown.ExitCode);
        Assert.Equal("Error: registering 'AbCdEfGhIjKlMnOpQrStUvWx' to user 'nobody': user not found", unknown.Stderr.TrimEnd());
        Assert.Equal(1, unknownJson.ExitCode);
        Assert.Equal("registering 'k' to user 'nobody': user not found", JsonDocument.Parse(unknownJson.Stdout).RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public async Task List_routes_for_all_nodes_or_one()
    {
        var all = await cli.RunAsync("nodes", "routes");
        var one = await cli.RunAsync("nodes", "lsr", "-i", "1");

        Assert.Equal(["ID", "Hostname", "Approved", "Available", "Serving (Primary)"], Cells(all.Lines[0]));
        Assert.Equal(["1", "laptop", "10.0.0.0/24", "10.0.0.0/24, 0.0.0.0/0, ::/0", "10.0.0.0/24"], Cells(all.Lines[1]));
        Assert.Equal(2, all.Lines.Length);
        Assert.Equal(1UL, Assert.IsType<GetNodeRequest>(cli.Facades.LastRequest).NodeId);
        Assert.Equal(all.Stdout, one.Stdout);
    }

    [Fact]
    public async Task Expire_now_or_at_a_given_time()
    {
        var now = await cli.RunAsync("nodes", "expire", "-i", "1");
        Assert.Null(Assert.IsType<ExpireNodeRequest>(cli.Facades.LastRequest).Expiry);

        var later = await cli.RunAsync("nodes", "logout", "-i", "1", "-e", "2026-12-31T23:00:00Z", "-o", "json");
        var request = Assert.IsType<ExpireNodeRequest>(cli.Facades.LastRequest);

        Assert.Equal("Node expired\n", now.Stdout);
        Assert.Equal(new DateTimeOffset(2026, 12, 31, 23, 0, 0, TimeSpan.Zero), request.Expiry.ToDateTimeOffset());
        Assert.Equal("2026-12-31T23:00:00Z", JsonDocument.Parse(later.Stdout).RootElement.GetProperty("expiry").GetString());
    }

    [Fact]
    public async Task Rename_move_tag_and_approve_routes_send_their_arguments()
    {
        var rename = await cli.RunAsync("nodes", "rename", "-i", "1", "work-laptop");
        Assert.Equal((1UL, "work-laptop"), (Assert.IsType<RenameNodeRequest>(cli.Facades.LastRequest).NodeId, ((RenameNodeRequest)cli.Facades.LastRequest!).NewName));

        var move = await cli.RunAsync("nodes", "mv", "-i", "1", "-u", "2");
        var moveRequest = Assert.IsType<MoveNodeRequest>(cli.Facades.LastRequest);

        var tag = await cli.RunAsync("nodes", "tag", "-i", "2", "-t", "tag:a,tag:b", "-t", "tag:c");
        var tagRequest = Assert.IsType<SetTagsRequest>(cli.Facades.LastRequest);

        var routes = await cli.RunAsync("nodes", "approve-routes", "-i", "1", "-r", "10.0.0.0/24,::/0");
        var routesRequest = Assert.IsType<SetApprovedRoutesRequest>(cli.Facades.LastRequest);

        var clear = await cli.RunAsync("nodes", "approve-routes", "-i", "1", "-r", "");
        var clearRequest = Assert.IsType<SetApprovedRoutesRequest>(cli.Facades.LastRequest);

        Assert.All([rename, move, tag, routes, clear], run => Assert.Equal(0, run.ExitCode));
        Assert.Equal("Node moved to user bob\n", move.Stdout);
        Assert.Equal((1UL, 2UL), (moveRequest.NodeId, moveRequest.User));
        Assert.Equal(["tag:a", "tag:b", "tag:c"], tagRequest.Tags);
        Assert.Equal(["10.0.0.0/24", "::/0"], routesRequest.Routes);
        Assert.Empty(clearRequest.Routes);
    }

    [Fact]
    public async Task Delete_needs_force_without_a_terminal_and_reports_a_missing_node()
    {
        var before = cli.Facades.LastRequest;
        var refused = await cli.RunAsync("nodes", "delete", "-i", "1");
        Assert.Same(before, cli.Facades.LastRequest);
        var deleted = await cli.RunAsync("nodes", "del", "-i", "1", "--force");
        var deleteRequest = Assert.IsType<DeleteNodeRequest>(cli.Facades.LastRequest);
        var missing = await cli.RunAsync("nodes", "delete", "-i", "404", "--force");

        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("pass --force", refused.Stderr);
        Assert.Equal("Node deleted\n", deleted.Stdout);
        Assert.Equal(1UL, deleteRequest.NodeId);
        Assert.Equal(1, missing.ExitCode);
        Assert.Equal("Error: node 404: node not found", missing.Stderr.TrimEnd());
    }

    [Fact]
    public async Task Delete_on_a_terminal_names_the_node_in_the_question()
    {
        using var yes = new StringReader("yes\n");
        var run = await cli.RunWithInputAsync(new Headscale.Api.Cli.Management.CliInput(yes, IsInteractive: true), "nodes", "delete", "-i", "1");

        Assert.Equal(0, run.ExitCode);
        Assert.Contains("Do you want to delete the node 'laptop' (id 1)? [y/N]", run.Stderr);
    }

    [Fact]
    public async Task Backfillips_is_confirmed_and_prints_the_changes()
    {
        var refused = await cli.RunAsync("nodes", "backfillips");
        Assert.IsNotType<BackfillNodeIPsRequest>(cli.Facades.LastRequest);
        var run = await cli.RunAsync("nodes", "backfillips", "--force");

        Assert.Equal(1, refused.ExitCode);
        Assert.Equal(0, run.ExitCode);
        Assert.Equal("assigned IPv6 to node 2\n", run.Stdout);
        Assert.True(Assert.IsType<BackfillNodeIPsRequest>(cli.Facades.LastRequest).Confirmed);
    }

    [Theory]
    [InlineData(new[] { "nodes", "expire" }, "Option '--identifier' is required")]
    [InlineData(new[] { "nodes", "expire", "-i", "0" }, "--identifier: '0' is not a positive integer id")]
    [InlineData(new[] { "nodes", "expire", "-i", "1", "-e", "tomorrow" }, "--expiry: 'tomorrow' is not an RFC 3339 time")]
    [InlineData(new[] { "nodes", "register", "-u", "alice" }, "Option '--key' is required")]
    [InlineData(new[] { "nodes", "register", "-u", "", "-k", "k" }, "--user: must not be empty")]
    [InlineData(new[] { "nodes", "move", "-i", "1", "-u", "bob" }, "--user: 'bob' is not a positive integer id")]
    [InlineData(new[] { "nodes", "tag", "-i", "1", "-t", "web" }, "--tags: 'web' is not a tag")]
    [InlineData(new[] { "nodes", "tag", "-i", "1", "-t", "tag:Web" }, "--tags: 'tag:Web' is not a valid tag")]
    [InlineData(new[] { "nodes", "tag", "-i", "1" }, "Option '--tags' is required")]
    [InlineData(new[] { "nodes", "approve-routes", "-i", "1", "-r", "10.0.0.1/24" }, "did you mean 10.0.0.0/24?")]
    [InlineData(new[] { "nodes", "approve-routes", "-i", "1", "-r", "10.0.0.0" }, "--routes: '10.0.0.0' is not an IP prefix")]
    [InlineData(new[] { "nodes", "approve-routes", "-i", "1", "-r", "10.0.0.0/40" }, "prefix length is out of range")]
    [InlineData(new[] { "nodes", "rename", "-i", "1" }, "NEW-NAME: missing argument")]
    [InlineData(new[] { "nodes", "rename", "-i", "1", "two words" }, "NEW-NAME: 'two words' is not a node name")]
    public async Task Bad_arguments_are_refused_before_calling_the_server(string[] args, string message)
    {
        var before = cli.Facades.LastRequest;

        var run = await cli.RunAsync(args);

        Assert.Equal(1, run.ExitCode);
        Assert.Contains(message, run.Stderr);
        Assert.StartsWith("Error: ", run.Stderr);
        Assert.Same(before, cli.Facades.LastRequest);
    }

    private static string[] Cells(string line) => line.Split('|').Select(c => c.Trim()).ToArray();
}
