using Headscale.Api.Cli;
using Headscale.Management.V1;
using Xunit;

namespace Headscale.Api.Tests.Cli;

/// <summary>Headscale's hidden, deprecated <c>--namespace</c>/<c>-n</c> spelling of <c>--user</c>.</summary>
[Collection(CliCollection.Name)]
public sealed class DeprecatedNamespaceTests(CliHarness cli)
{
    [Fact]
    public async Task Namespace_sets_the_user_of_nodes_register_list_and_debug_create_node()
    {
        var register = await cli.RunAsync("nodes", "register", "-n", "alice", "-k", "AbCdEfGhIjKlMnOpQrStUvWx");
        var registerRequest = Assert.IsType<RegisterNodeRequest>(cli.Facades.LastRequest);
        var list = await cli.RunAsync("nodes", "list", "--namespace", "alice");
        var listRequest = Assert.IsType<ListNodesRequest>(cli.Facades.LastRequest);
        var debug = await cli.RunAsync("debug", "create-node", "--name", "probe", "--namespace", "alice", "-k", "AbCdEfGhIjKlMnOpQrStUvWx");
        var debugRequest = Assert.IsType<DebugCreateNodeRequest>(cli.Facades.LastRequest);

        Assert.Equal([0, 0, 0], new[] { register.ExitCode, list.ExitCode, debug.ExitCode });
        Assert.Equal("alice", registerRequest.User);
        Assert.Equal("alice", listRequest.User);
        Assert.Equal("alice", debugRequest.User);
    }

    [Fact]
    public async Task Namespace_sets_the_user_id_of_preauthkeys_before_or_after_the_subcommand()
    {
        var after = await cli.RunAsync("preauthkeys", "list", "-n", "1");
        var afterRequest = Assert.IsType<ListPreAuthKeysRequest>(cli.Facades.LastRequest);
        var before = await cli.RunAsync("preauthkeys", "--namespace", "1", "list");
        var beforeRequest = Assert.IsType<ListPreAuthKeysRequest>(cli.Facades.LastRequest);

        Assert.Equal(0, after.ExitCode);
        Assert.Equal(1UL, afterRequest.User);
        Assert.Equal(0, before.ExitCode);
        Assert.Equal(1UL, beforeRequest.User);
    }

    [Theory]
    [InlineData("Error: Option '--user' is required.", "preauthkeys", "list")]
    [InlineData("Error: Option '--user' is required.", "nodes", "register", "-k", "AbCdEfGhIjKlMnOpQrStUvWx")]
    [InlineData("Error: --user and --namespace: give only one of them (--namespace is the deprecated name of --user)", "preauthkeys", "list", "-u", "1", "-n", "2")]
    [InlineData("Error: --user: 'abc' is not a positive integer id", "preauthkeys", "create", "-n", "abc")]
    [InlineData("Error: --user: must not be empty", "nodes", "register", "-n", " ", "-k", "AbCdEfGhIjKlMnOpQrStUvWx")]
    public async Task Missing_doubled_or_bad_user_is_one_line(string expected, params string[] args)
    {
        var before = cli.Facades.LastRequest;

        var run = await cli.RunAsync(args);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal(expected, run.Stderr.TrimEnd());
        Assert.Same(before, cli.Facades.LastRequest);
    }

    [Fact]
    public async Task The_deprecated_name_warns_on_stderr_and_leaves_json_output_parseable()
    {
        var deprecated = await cli.RunAsync("nodes", "list", "--namespace", "alice", "-o", "json");
        var current = await cli.RunAsync("nodes", "list", "--user", "alice", "-o", "json");
        var name = await cli.RunAsync("users", "list", "-n", "alice");

        Assert.Equal("Flag --namespace has been deprecated, use --user", deprecated.Stderr.TrimEnd());
        Assert.Equal(current.Stdout, deprecated.Stdout);
        Assert.Equal("", current.Stderr);
        Assert.Equal("", name.Stderr);
    }

    [Fact]
    public async Task Help_does_not_show_the_deprecated_name()
    {
        using var stdout = new StringWriter();
        await CliApplication.RunAsync(["nodes", "register", "--help"], stdout, TextWriter.Null);

        Assert.Contains("--user", stdout.ToString());
        Assert.DoesNotContain("--namespace", stdout.ToString());
    }
}
