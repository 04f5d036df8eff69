using System.Text.Json;
using Headscale.Api.Management;
using Headscale.Management.V1;
using Xunit;

namespace Headscale.Api.Tests.Cli;

[Collection(CliCollection.Name)]
public sealed class PolicyDebugHealthTests(CliHarness cli)
{
    [Fact]
    public async Task Policy_get_prints_the_policy_text()
    {
        var human = await cli.RunAsync("policy", "get");
        var json = await cli.RunAsync("policy", "show", "-o", "json");

        Assert.Equal("{\"acls\":[]}\n", human.Stdout);
        Assert.Equal("2026-01-02T03:04:05Z", JsonDocument.Parse(json.Stdout).RootElement.GetProperty("updatedAt").GetString());
    }

    [Fact]
    public async Task Policy_set_uploads_the_file_and_shows_a_parse_error_as_one_line()
    {
        var good = Path.Combine(cli.Directory, "good.hujson");
        var bad = Path.Combine(cli.Directory, "bad.hujson");
        File.WriteAllText(good, "{\"acls\": [] /* none */}");
        File.WriteAllText(bad, "acls: nope");

        var set = await cli.RunAsync("policy", "put", "-f", good);
        var request = Assert.IsType<SetPolicyRequest>(cli.Facades.LastRequest);
        var refused = await cli.RunAsync("policy", "set", "--file", bad);

        Assert.Equal(0, set.ExitCode);
        Assert.Equal("Policy updated.\n", set.Stdout);
        Assert.Equal("{\"acls\": [] /* none */}", request.Policy);
        Assert.Equal(1, refused.ExitCode);
        Assert.Equal($"Error: {ManagementErrors.PolicyHuJsonParsePrefix}invalid character at offset 0", refused.Stderr.TrimEnd());
    }

    [Theory]
    [InlineData(new[] { "policy", "set" }, "Option '--file' is required")]
    [InlineData(new[] { "policy", "set", "-f", "/nonexistent/policy.hujson" }, "--file: /nonexistent/policy.hujson does not exist")]
    [InlineData(new[] { "policy", "get", "--bypass-grpc-and-access-database-directly" }, "--bypass-grpc-and-access-database-directly is not supported")]
    [InlineData(new[] { "debug", "create-node", "-u", "alice", "-k", "k" }, "Option '--name' is required")]
    [InlineData(new[] { "debug", "create-node", "--name", "n", "-u", "alice", "-k", "k", "-r", "10.1.2.3/8" }, "did you mean 10.0.0.0/8?")]
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
    public async Task Debug_create_node_sends_name_user_key_and_routes()
    {
        var run = await cli.RunAsync("debug", "create-node", "--name", "probe", "-u", "alice", "-k", "AbCdEfGhIjKlMnOpQrStUvWx", "-r", "10.0.0.0/24", "-r", "fd00::/64");
        var request = Assert.IsType<DebugCreateNodeRequest>(cli.Facades.LastRequest);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal("Node created\n", run.Stdout);
        Assert.Equal(("probe", "alice", "AbCdEfGhIjKlMnOpQrStUvWx"), (request.Name, request.User, request.Key));
        Assert.Equal(["10.0.0.0/24", "fd00::/64"], request.Routes);
    }

    [Fact]
    public async Task Health_reports_the_database()
    {
        var human = await cli.RunAsync("health");
        var json = await cli.RunAsync("health", "-o", "json-line");

        Assert.Equal(0, human.ExitCode);
        Assert.Equal("healthy: the database is reachable\n", human.Stdout);
        Assert.Equal("{\"databaseConnectivity\":true}\n", json.Stdout);
        Assert.IsType<HealthRequest>(cli.Facades.LastRequest);
    }
}
