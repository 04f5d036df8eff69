using System.Globalization;
using System.Security.Cryptography;
using System.Text.Json;

namespace Headscale.IntegrationTests.CliManagement;

/// <summary>
/// <c>headscale nodes</c> and <c>headscale debug create-node</c> through the real executable. A node
/// is made as Headscale's own integration tests make one without a client: <c>debug create-node</c>
/// puts a registration in the pending cache and <c>nodes register</c> approves it.
/// </summary>
public sealed class CliNodeTests(CliServer server) : IClassFixture<CliServer>
{
    [Fact]
    public async Task A_pending_node_is_registered_and_listed_in_human_and_json_output()
    {
        var (_, user) = await server.CreateUserAsync("owner");
        var key = NewRegistrationId();

        Assert.Equal("Node created\n", (await server.RunAsync("debug", "create-node", "--name", "laptop", "-u", user, "-k", key)).Ok());
        var registered = (await server.RunAsync("nodes", "register", "-u", user, "-k", key)).Ok();
        Assert.Matches(@"^Node \S+ registered\n$", registered);

        var (headers, rows) = (await server.RunAsync("nodes", "list", "-u", user)).Table();
        Assert.Equal(["ID", "Hostname", "Name", "MachineKey", "NodeKey", "User", "IP addresses", "Ephemeral", "Last seen", "Expiration", "Connected", "Expired"], headers);
        var row = Assert.Single(rows);
        Assert.Equal("laptop", row[1]);
        Assert.Equal($"Node {row[2]} registered\n", registered);
        Assert.Equal(user, row[5]);
        Assert.Matches(@"^100\.", row[6]);
        Assert.Equal(["offline", "no"], row[10..12]);
        Assert.Equal(["ForcedTags", "InvalidTags", "ValidTags"], (await server.RunAsync("machines", "ls", "-u", user, "--tags")).Table().Headers[12..]);

        var node = Assert.Single((await server.JsonAsync("nodes", "list", "-u", user)).EnumerateArray());
        Assert.Equal(row[0], node.GetProperty("id").GetString());
        Assert.Equal("laptop", node.GetProperty("name").GetString());
        Assert.Equal(row[2], node.GetProperty("givenName").GetString());
        Assert.Equal(user, node.GetProperty("user").GetProperty("name").GetString());
        Assert.Equal("REGISTER_METHOD_CLI", node.GetProperty("registerMethod").GetString());
        Assert.StartsWith("mkey:", node.GetProperty("machineKey").GetString());
        Assert.StartsWith("nodekey:", node.GetProperty("nodeKey").GetString());
        Assert.NotEmpty(node.GetProperty("ipAddresses").EnumerateArray());

        // The registration id was used up.
        (await server.RunAsync("nodes", "register", "-u", user, "-k", key)).Error("registration");
    }

    [Fact]
    public async Task Rename_and_expire_in_human_and_json_output()
    {
        var (_, user) = await server.CreateUserAsync("renamer");
        var id = await RegisterNodeAsync(user, "desktop");

        Assert.Equal("Node renamed\n", (await server.RunAsync("nodes", "rename", "-i", id, "office-pc")).Ok());
        Assert.Equal("office-pc", Row(await server.RunAsync("nodes", "list", "-u", user), id)[2]);
        var renamed = await server.JsonAsync("node", "rename", "-i", id, "office-pc-2");
        Assert.Equal("office-pc-2", renamed.GetProperty("givenName").GetString());
        Assert.Equal("desktop", renamed.GetProperty("name").GetString());

        Assert.Equal("Node expired\n", (await server.RunAsync("nodes", "expire", "-i", id)).Ok());
        Assert.Equal("yes", Row(await server.RunAsync("nodes", "list", "-u", user), id)[11]);
        var expired = await server.JsonAsync("nodes", "logout", "-i", id);
        Assert.True(DateTimeOffset.Parse(expired.GetProperty("expiry").GetString()!, CultureInfo.InvariantCulture) <= DateTimeOffset.UtcNow);
    }

    [Fact]
    public async Task Tags_and_approved_routes_in_human_and_json_output()
    {
        var (_, user) = await server.CreateUserAsync("router");
        var id = await RegisterNodeAsync(user, "gateway", "10.20.0.0/24,0.0.0.0/0,::/0");

        Assert.Equal("Node updated\n", (await server.RunAsync("nodes", "tag", "-i", id, "-t", "tag:web,tag:db")).Ok());
        // Tags are kept sorted and without duplicates, as Headscale stores them.
        Assert.Equal("tag:db, tag:web", Row(await server.RunAsync("nodes", "list", "-u", user, "-t"), id)[12]);
        var tagged = await server.JsonAsync("nodes", "t", "-i", id, "-t", "tag:web");
        Assert.Equal(["tag:web"], Strings(tagged.GetProperty("forcedTags")));

        Assert.Equal("Node updated\n", (await server.RunAsync("nodes", "approve-routes", "-i", id, "-r", "10.20.0.0/24")).Ok());
        var (headers, rows) = (await server.RunAsync("nodes", "list-routes", "-i", id)).Table();
        Assert.Equal(["ID", "Hostname", "Approved", "Available", "Serving (Primary)"], headers);
        var routes = Assert.Single(rows);
        Assert.Equal("10.20.0.0/24", routes[2]);
        Assert.Contains("10.20.0.0/24", routes[3]);

        var approved = await server.JsonAsync("nodes", "approve-routes", "-i", id, "-r", "10.20.0.0/24,0.0.0.0/0,::/0");
        Assert.Equal(["0.0.0.0/0", "10.20.0.0/24", "::/0"], Strings(approved.GetProperty("approvedRoutes")).Order());
        var listed = await server.JsonAsync("nodes", "routes", "-i", id);
        Assert.Equal(["0.0.0.0/0", "10.20.0.0/24", "::/0"], Strings(listed.GetProperty("availableRoutes")).Order());

        var cleared = await server.JsonAsync("nodes", "approve-routes", "-i", id, "-r", "");
        Assert.Empty(cleared.GetProperty("approvedRoutes").EnumerateArray());
    }

    [Fact]
    public async Task Move_then_delete_and_a_user_with_nodes_cannot_be_destroyed()
    {
        var (_, user) = await server.CreateUserAsync("mover");
        var (otherId, other) = await server.CreateUserAsync("receiver");
        var first = await RegisterNodeAsync(user, "tablet");
        var second = await RegisterNodeAsync(user, "phone");

        Assert.Equal($"Node moved to user {other}\n", (await server.RunAsync("nodes", "move", "-i", first, "-u", otherId)).Ok());
        var moved = await server.JsonAsync("nodes", "mv", "-i", second, "--user", otherId);
        Assert.Equal(other, moved.GetProperty("user").GetProperty("name").GetString());
        Assert.Equal(2, (await server.RunAsync("nodes", "list", "-u", other)).Table().Rows.Length);

        (await server.RunAsync("users", "destroy", "-n", other, "--force")).Error("");
        Assert.Single((await server.RunAsync("users", "list", "-n", other)).Table().Rows);

        Assert.Equal("Node deleted\n", (await server.RunAsync("nodes", "delete", "-i", first, "--force")).Ok());
        Assert.Equal(JsonValueKind.Object, (await server.JsonAsync("nodes", "del", "-i", second, "--force")).ValueKind);
        Assert.Empty((await server.RunAsync("nodes", "list", "-u", other)).Table().Rows);
        (await server.RunAsync("nodes", "rename", "-i", first, "gone")).Error("not found");
    }

    [Fact]
    public async Task Backfill_ips_asks_for_force_and_reports_the_changes()
    {
        (await server.RunAsync("nodes", "backfillips")).Error("pass --force");

        var human = (await server.RunAsync("nodes", "backfillips", "--force")).Ok();
        Assert.False(string.IsNullOrWhiteSpace(human));
        var json = await server.JsonAsync("nodes", "backfillips", "--force");
        Assert.Equal(JsonValueKind.Array, json.GetProperty("changes").ValueKind);
    }

    [Fact]
    public async Task A_user_without_nodes_lists_an_empty_table_and_an_empty_array()
    {
        var (_, user) = await server.CreateUserAsync("empty");

        var (headers, rows) = (await server.RunAsync("nodes", "list", "-u", user)).Table();
        var json = await server.JsonAsync("node", "ls", "-u", user);

        Assert.Equal("ID", headers[0]);
        Assert.Equal("Expired", headers[^1]);
        Assert.Empty(rows);
        Assert.Empty(json.EnumerateArray());
        Assert.Equal(["ID", "Hostname", "Approved", "Available", "Serving (Primary)"], (await server.RunAsync("nodes", "list-routes")).Table().Headers);
    }

    [Fact]
    public async Task Bad_input_is_one_line_naming_the_problem()
    {
        var (_, user) = await server.CreateUserAsync("bad");

        (await server.RunAsync("nodes", "list", "-u", "nobody-here")).Error("nobody-here");
        (await server.RunAsync("nodes", "register", "-u", user, "-k", NewRegistrationId())).Error("registration");
        (await server.RunAsync("nodes", "register", "-u", user)).Error("--key");
        (await server.RunAsync("nodes", "rename", "-i", "999999", "new-name")).Error("999999");
        (await server.RunAsync("nodes", "expire", "-i", "999999")).Error("999999");
        (await server.RunAsync("nodes", "delete", "-i", "999999", "--force")).Error("999999");
        (await server.RunAsync("nodes", "expire", "-i", "0")).Error("--identifier: '0' is not a positive integer id");
        (await server.RunAsync("nodes", "expire")).Error("--identifier");
        (await server.RunAsync("nodes", "rename", "-i", "1")).Error("NEW-NAME: missing argument");
        (await server.RunAsync("nodes", "expire", "-i", "1", "-e", "tomorrow")).Error("--expiry: 'tomorrow' is not an RFC 3339 time");
        (await server.RunAsync("nodes", "tag", "-i", "1", "-t", "web")).Error("--tags: 'web' is not a tag");
        (await server.RunAsync("nodes", "approve-routes", "-i", "1", "-r", "10.0.0.1/24")).Error("did you mean 10.0.0.0/24?");
        (await server.RunAsync("nodes", "move", "-i", "1")).Error("--user");
        (await server.RunAsync("nodes", "delete", "-i", "1")).Error("pass --force");
        (await server.RunAsync("debug", "create-node", "-u", user, "-k", NewRegistrationId())).Error("--name");
        (await server.RunAsync("nodes", "expire", "-i", "999999", "-o", "json")).JsonError("999999");
    }

    /// <summary>A registration id as the server hands out: 24 letters and digits.</summary>
    private static string NewRegistrationId() =>
        RandomNumberGenerator.GetString("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", 24);

    /// <summary>Creates a pending node through <c>debug create-node</c>, registers it to <paramref name="user"/> and returns its id.</summary>
    private async Task<string> RegisterNodeAsync(string user, string hostname, string? routes = null)
    {
        var key = NewRegistrationId();
        string[] create = ["debug", "create-node", "--name", hostname, "-u", user, "-k", key];
        var pending = await server.JsonAsync(routes is null ? create : [.. create, "-r", routes]);
        Assert.Equal(hostname, pending.GetProperty("name").GetString());
        var node = await server.JsonAsync("nodes", "register", "-u", user, "-k", key);
        Assert.Equal(user, node.GetProperty("user").GetProperty("name").GetString());
        return node.GetProperty("id").GetString()!;
    }

    private static string[] Row(CliRun list, string id) => Assert.Single(list.Table().Rows, r => r[0] == id);

    private static string[] Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];
}
