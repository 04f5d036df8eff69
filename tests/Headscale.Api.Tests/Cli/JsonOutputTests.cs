using Headscale.Api.Tests.Management;
using Xunit;

namespace Headscale.Api.Tests.Cli;

/// <summary>
/// <c>-o json</c> prints data exactly as the REST surface writes it (the same golden files the REST
/// tests use, field order, string ids and nulls included), and, as Headscale's CLI does, a response
/// that only wraps a list or an object is printed as that list or object.
/// </summary>
[Collection(CliCollection.Name)]
public sealed class JsonOutputTests(CliHarness cli)
{
    [Theory]
    [InlineData("list-users.json", "users", new[] { "users", "list" })]
    [InlineData("list-nodes.json", "nodes", new[] { "nodes", "list" })]
    [InlineData("node-laptop.json", "node", new[] { "nodes", "list-routes", "-i", "1" })]
    [InlineData("move-node.json", "node", new[] { "nodes", "move", "-i", "1", "-u", "2" })]
    [InlineData("list-preauthkeys.json", "preAuthKeys", new[] { "preauthkeys", "list", "-u", "1" })]
    [InlineData("create-preauthkey.json", "preAuthKey", new[] { "preauthkeys", "create", "-u", "1" })]
    [InlineData("backfill-node-ips.json", null, new[] { "nodes", "backfillips", "--force" })]
    [InlineData("get-policy.json", null, new[] { "policy", "get" })]
    [InlineData("health.json", null, new[] { "health" })]
    [InlineData("empty.json", null, new[] { "nodes", "delete", "-i", "1", "--force" })]
    public async Task Json_output_matches_the_rest_golden(string golden, string? payload, string[] args)
    {
        var run = await cli.RunAsync([.. args, "-o", "json"]);

        Assert.Equal(0, run.ExitCode);
        GoldenJson.AssertMatches(golden, run.Stdout, property: payload);
    }

    [Fact]
    public async Task Json_line_is_one_compact_line_and_yaml_carries_the_same_fields()
    {
        var line = await cli.RunAsync("nodes", "list", "-o", "json-line");
        var yaml = await cli.RunAsync("nodes", "list", "-o", "yaml");

        Assert.Single(line.Lines);
        GoldenJson.AssertMatches("list-nodes.json", line.Stdout, property: "nodes");
        Assert.Contains("givenName: laptop", yaml.Stdout);
        Assert.Contains("registerMethod: REGISTER_METHOD_AUTH_KEY", yaml.Stdout);
        Assert.Contains("- 100.64.0.1", yaml.Stdout);
    }
}
