namespace Headscale.IntegrationTests.CliManagement;

/// <summary><c>headscale users</c> through the real executable against a running server.</summary>
public sealed class CliUserTests(CliServer server) : IClassFixture<CliServer>
{
    [Fact]
    public async Task Create_list_rename_and_destroy_in_human_output()
    {
        var name = server.UniqueName("alice");

        Assert.Equal("User created\n", (await server.RunAsync("users", "create", name, "-d", "Alice Example", "-e", name + "@example.com")).Ok());
        var (headers, rows) = (await server.RunAsync("users", "list", "-n", name)).Table();
        Assert.Equal(["ID", "Name", "Username", "Email", "Created"], headers);
        var row = Assert.Single(rows);
        Assert.Equal(["Alice Example", name, name + "@example.com"], row[1..4]);
        Assert.Matches(@"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$", row[4]);

        var renamed = name + "-renamed";
        Assert.Equal("User renamed\n", (await server.RunAsync("users", "rename", "-n", name, "-r", renamed)).Ok());
        Assert.Empty((await server.RunAsync("users", "list", "-n", name)).Table().Rows);
        Assert.Equal(row[0], Assert.Single((await server.RunAsync("users", "list", "-n", renamed)).Table().Rows)[0]);

        Assert.Equal("User destroyed\n", (await server.RunAsync("users", "destroy", "-i", row[0], "--force")).Ok());
        Assert.Empty((await server.RunAsync("users", "list", "-i", row[0])).Table().Rows);
    }

    [Fact]
    public async Task Create_list_rename_and_destroy_in_json_output()
    {
        var name = server.UniqueName("bob");

        var created = await server.JsonAsync("users", "create", name, "-d", "Bob", "-e", name + "@example.com");
        var id = created.GetProperty("id").GetString()!;
        Assert.Matches(@"^\d+$", id);
        Assert.Equal(name, created.GetProperty("name").GetString());
        Assert.Equal(name + "@example.com", created.GetProperty("email").GetString());
        Assert.Equal("Bob", created.GetProperty("displayName").GetString());
        Assert.True(DateTimeOffset.TryParse(created.GetProperty("createdAt").GetString(), out _));

        var listed = Assert.Single((await server.JsonAsync("users", "list", "-i", id)).EnumerateArray());
        Assert.Equal(name, listed.GetProperty("name").GetString());

        var renamed = await server.JsonAsync("users", "rename", "-i", id, "--new-name", name + "-x");
        Assert.Equal(id, renamed.GetProperty("id").GetString());
        Assert.Equal(name + "-x", renamed.GetProperty("name").GetString());

        var destroyed = await server.JsonAsync("users", "destroy", "-n", name + "-x", "--force");
        Assert.Equal(System.Text.Json.JsonValueKind.Object, destroyed.ValueKind);
        Assert.Empty((await server.JsonAsync("users", "list", "-i", id)).EnumerateArray());
    }

    [Fact]
    public async Task The_group_and_command_aliases_reach_the_same_commands()
    {
        var name = server.UniqueName("carol");

        Assert.Equal("User created\n", (await server.RunAsync("user", "new", name)).Ok());
        Assert.Single((await server.RunAsync("ns", "ls", "-n", name)).Table().Rows);
        Assert.Equal("User renamed\n", (await server.RunAsync("namespace", "mv", "-n", name, "-r", name + "-2")).Ok());
        Assert.Single((await server.RunAsync("namespaces", "show", "-n", name + "-2")).Table().Rows);
        Assert.Equal("User destroyed\n", (await server.RunAsync("users", "delete", "-n", name + "-2", "--force")).Ok());
    }

    [Fact]
    public async Task Bad_input_is_one_line_naming_the_problem()
    {
        var (id, name) = await server.CreateUserAsync("dave");

        (await server.RunAsync("users", "destroy", "-n", "nobody-here", "--force")).Error("no user named 'nobody-here'");
        (await server.RunAsync("users", "rename", "-i", "999999", "-r", "x")).Error("no user with id 999999");
        (await server.RunAsync("users", "rename", "-n", name)).Error("--new-name");
        (await server.RunAsync("users", "destroy", "-i", "abc", "--force")).Error("--identifier: 'abc' is not a positive integer id");
        (await server.RunAsync("users", "destroy", "--force")).Error("--identifier or --name is required");
        (await server.RunAsync("users", "create")).Error("NAME: missing argument");
        (await server.RunAsync("users", "create", name)).Error($"user '{name}': ");
        (await server.RunAsync("users", "create", "eve", "-e", "not-an-email")).Error("--email: 'not-an-email' is not an email address");
        (await server.RunAsync("users", "destroy", "-n", "nobody-here", "--force", "-o", "json")).JsonError("no user named 'nobody-here'");

        // Without --force and without a terminal to ask on, nothing is deleted.
        (await server.RunAsync("users", "destroy", "-i", id)).Error("pass --force");
        Assert.Single((await server.RunAsync("users", "list", "-i", id)).Table().Rows);
    }
}
