using System.Text.Json;
using Headscale.Api.Cli.Management;
using Headscale.Management.V1;
using Xunit;

namespace Headscale.Api.Tests.Cli;

[Collection(CliCollection.Name)]
public sealed class UserCommandTests(CliHarness cli)
{
    [Fact]
    public async Task List_prints_an_aligned_table_with_headscales_columns()
    {
        var run = await cli.RunAsync("users", "list");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(
            [
                "ID | Name    | Username | Email             | Created",
                "1  | Alice A | alice    | alice@example.com | 2026-01-02 03:04:05",
                "2  | Bob B   | bob      | bob@example.com   | 2026-01-02 03:04:05",
            ],
            run.Lines);
    }

    [Fact]
    public async Task List_as_json_is_the_rest_shape_and_filters_reach_the_server()
    {
        var run = await cli.RunAsync("user", "ls", "-i", "1", "-n", "alice", "-e", "alice@example.com", "-o", "json");

        Assert.Equal(0, run.ExitCode);
        using var doc = JsonDocument.Parse(run.Stdout);
        var first = doc.RootElement[0];
        Assert.Equal("1", first.GetProperty("id").GetString());
        Assert.Equal("Alice A", first.GetProperty("displayName").GetString());
        Assert.Equal("2026-01-02T03:04:05Z", first.GetProperty("createdAt").GetString());
        Assert.Equal("", first.GetProperty("providerId").GetString());
        var request = Assert.IsType<ListUsersRequest>(cli.Facades.LastRequest);
        Assert.Equal((1UL, "alice", "alice@example.com"), (request.Id, request.Name, request.Email));
    }

    [Fact]
    public async Task List_as_yaml_and_json_line()
    {
        var yaml = await cli.RunAsync("namespaces", "show", "-o", "yaml");
        var line = await cli.RunAsync("ns", "list", "-o", "json-line");

        Assert.Contains("- id: 1", yaml.Stdout.Replace("\"", "", StringComparison.Ordinal));
        Assert.Contains("name: alice", yaml.Stdout);
        Assert.Single(line.Lines);
        Assert.Equal(2, JsonDocument.Parse(line.Stdout).RootElement.GetArrayLength());
    }

    [Fact]
    public async Task Create_sends_every_flag()
    {
        var run = await cli.RunAsync("users", "create", "carol", "-d", "Carol C", "-e", "carol@example.com", "-p", "https://img.example.com/c.png");
        var request = Assert.IsType<CreateUserRequest>(cli.Facades.LastRequest);
        var json = await cli.RunAsync("users", "new", "dave", "-o", "json");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("User created\n", run.Stdout);
        Assert.Equal(("carol", "Carol C", "carol@example.com", "https://img.example.com/c.png"), (request.Name, request.DisplayName, request.Email, request.PictureUrl));
        Assert.Equal("dave", JsonDocument.Parse(json.Stdout).RootElement.GetProperty("name").GetString());
    }

    [Theory]
    [InlineData(new[] { "users", "create", "x", "-e", "not-an-email" }, "--email: 'not-an-email' is not an email address")]
    [InlineData(new[] { "users", "create", "x", "-p", "ftp://x/y" }, "--picture-url: 'ftp://x/y' is not an http(s) URL")]
    [InlineData(new[] { "users", "create", " " }, "NAME: must not be empty")]
    [InlineData(new[] { "users", "destroy" }, "--identifier or --name is required")]
    [InlineData(new[] { "users", "destroy", "-i", "1", "-n", "alice" }, "--identifier and --name: give only one of them")]
    [InlineData(new[] { "users", "rename", "-i", "abc", "-r", "x" }, "--identifier: 'abc' is not a positive integer id")]
    [InlineData(new[] { "users", "rename", "-i", "1" }, "--new-name")]
    [InlineData(new[] { "users", "list", "-i", "-3" }, "--identifier")]
    [InlineData(new[] { "users", "create" }, "NAME: missing argument (the new user's name)")]
    public async Task Bad_arguments_are_refused_before_calling_the_server(string[] args, string message)
    {
        var before = cli.Facades.LastRequest;

        var run = await cli.RunAsync(args);

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("Error: ", run.Stderr);
        Assert.Contains(message, run.Stderr);
        Assert.Same(before, cli.Facades.LastRequest);
    }

    [Fact]
    public async Task Destroy_needs_force_when_stdin_is_not_interactive()
    {
        var refused = await cli.RunAsync("users", "destroy", "-n", "alice");
        Assert.IsNotType<DeleteUserRequest>(cli.Facades.LastRequest);

        var forced = await cli.RunAsync("users", "delete", "-n", "alice", "--force");
        var request = Assert.IsType<DeleteUserRequest>(cli.Facades.LastRequest);

        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("stdin is not interactive, pass --force", refused.Stderr);
        Assert.Equal(0, forced.ExitCode);
        Assert.Equal("User destroyed\n", forced.Stdout);
        Assert.Equal(1UL, request.Id);
    }

    [Fact]
    public async Task Destroy_asks_on_an_interactive_stdin()
    {
        using var no = new StringReader("n\n");
        var declined = await cli.RunWithInputAsync(new CliInput(no, IsInteractive: true), "users", "destroy", "-i", "2");
        Assert.IsNotType<DeleteUserRequest>(cli.Facades.LastRequest);

        using var yes = new StringReader("y\n");
        var accepted = await cli.RunWithInputAsync(new CliInput(yes, IsInteractive: true), "users", "destroy", "-i", "2");

        Assert.Equal(1, declined.ExitCode);
        Assert.Contains("Do you want to remove the user 'bob' (id 2)", declined.Stderr);
        Assert.Contains("Error: aborted: not confirmed", declined.Stderr);
        Assert.Equal(0, accepted.ExitCode);
        Assert.Equal(2UL, Assert.IsType<DeleteUserRequest>(cli.Facades.LastRequest).Id);
    }

    [Fact]
    public async Task Destroy_of_an_unknown_user_is_one_error_line()
    {
        var run = await cli.RunAsync("users", "destroy", "-i", "404", "--force");

        Assert.Equal(1, run.ExitCode);
        Assert.Equal("Error: no user with id 404\n", run.Stderr.Replace("\r\n", "\n", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Rename_resolves_the_name_to_the_id()
    {
        var run = await cli.RunAsync("users", "mv", "-n", "bob", "-r", "robert", "-o", "json");

        var request = Assert.IsType<RenameUserRequest>(cli.Facades.LastRequest);
        Assert.Equal(0, run.ExitCode);
        Assert.Equal((2UL, "robert"), (request.OldId, request.NewName));
        Assert.Equal("robert", JsonDocument.Parse(run.Stdout).RootElement.GetProperty("name").GetString());
    }
}
