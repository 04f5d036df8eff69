using System.Text.Json;
using Headscale.Policy.Tests.Compilation;
using Xunit;

namespace Headscale.Policy.Tests;

public sealed class PolicyCheckerTests
{
    private const string Base = "\"tagOwners\": {\"tag:server\": [\"odin@example.com\"], \"tag:router\": [\"odin@example.com\"]}, " +
        "\"acls\": [{\"action\": \"accept\", \"src\": [\"freya@example.com\"], \"dst\": [\"tag:server:22\"]}], " +
        "\"ssh\": [{\"action\": \"accept\", \"src\": [\"freya@example.com\"], \"dst\": [\"tag:server\"], \"users\": [\"root\"]}]";

    private static PolicyCheckResult Check(string extra) =>
        PolicyChecker.Check("{" + Base + extra + "}", TestTailnet.Snapshot(), ["example.com"]);

    [Fact]
    public void Passing_tests_accept_the_policy_and_report_each_outcome()
    {
        var result = Check(", \"tests\": [{\"src\": \"freya@example.com\", \"accept\": [\"tag:server:22\"], \"deny\": [\"tag:server:80\"]}]," +
            " \"sshTests\": [{\"src\": \"freya@example.com\", \"dst\": [\"tag:server\"], \"accept\": [\"root\"], \"deny\": [\"ubuntu\"]}]");
        Assert.True(result.IsValid, result.ErrorMessage);
        Assert.Equal(2, result.Tests.Length);
        Assert.All(result.Tests, t => Assert.True(t.Passed, t.Detail));
    }

    [Theory]
    [InlineData(", \"tests\": [{\"src\": \"odin@example.com\", \"accept\": [\"tag:server:22\"]}]", "tests[0]: accept odin@example.com -> tag:server:22 failed for 100.64.0.1 -> 100.64.0.4")]
    [InlineData(", \"tests\": [{\"src\": \"freya@example.com\", \"deny\": [\"tag:server:22\"]}]", "tests[0]: deny freya@example.com -> tag:server:22 failed for 100.64.0.3 -> 100.64.0.4")]
    [InlineData(", \"tests\": [{\"src\": \"freya@example.com\"}]", "tests[0]: neither accept nor deny")]
    [InlineData(", \"tests\": [{\"accept\": [\"tag:server:22\"]}]", "tests[0]: missing src")]
    [InlineData(", \"tests\": [{\"src\": \"freya@example.com\", \"accept\": [\"tag:server:22,80\"]}]", "tests[0]: dst tag:server:22,80: a test needs one port")]
    [InlineData(", \"tests\": [{\"src\": \"group:ghost\", \"accept\": [\"tag:server:22\"]}]", "tests[0]: src group:ghost matches no address")]
    [InlineData(", \"sshTests\": [{\"src\": \"odin@example.com\", \"dst\": [\"tag:server\"], \"accept\": [\"root\"]}]", "sshTests[0]: odin@example.com as root on server: expected accept, got deny")]
    [InlineData(", \"sshTests\": [{\"src\": \"freya@example.com\", \"dst\": [\"tag:server\"], \"accept\": [\"\"]}]", "sshTests[0]: empty user")]
    public void Failing_tests_reject_the_policy_naming_each_failure(string extra, string failure)
    {
        var result = Check(extra);
        Assert.False(result.IsValid);
        Assert.Equal("test(s) failed:\n" + failure, result.ErrorMessage);
    }

    [Theory]
    [InlineData(", \"sshTests\": [{\"src\": \"freya@example.com\", \"dst\": [\"tag:server:22\"], \"accept\": [\"root\"]}]", "SSH tests dst contains unknown tag \"tag:server:22\"")]
    [InlineData(", \"sshTests\": [{\"src\": \"freya@example.com\", \"dst\": [\"autogroup:internet\"], \"accept\": [\"root\"]}]", "SSH tests dst contains disallowed element \"autogroup:internet\"")]
    [InlineData(", \"sshTests\": [{\"src\": \"freya@example.com\", \"dst\": [\"tag:server\"], \"accept\": [\"*\"]}]", "user \"*\" is not valid")]
    public void Structural_ssh_test_problems_have_their_own_message(string extra, string message)
    {
        var result = Check(extra);
        Assert.Contains(message, result.Errors.Select(e => e.Message));
    }

    [Fact]
    public void A_broken_policy_never_replaces_the_good_one()
    {
        var good = PolicyLoader.Load("{" + Base + "}", ["example.com"]).Policy!;
        var store = new PolicyStore(good);

        var syntax = store.TryReplace("{\"acls\": [", TestTailnet.Snapshot(), ["example.com"]);
        Assert.False(syntax.IsValid);
        Assert.Same(good, store.Current);

        var failingTests = store.TryReplace("{" + Base + ", \"tests\": [{\"src\": \"odin@example.com\", \"accept\": [\"tag:server:22\"]}]}", TestTailnet.Snapshot(), ["example.com"]);
        Assert.False(failingTests.IsValid);
        Assert.Same(good, store.Current);

        var next = store.TryReplace("{}", TestTailnet.Snapshot(), ["example.com"]);
        Assert.True(next.IsValid);
        Assert.Equal("{}", store.Current.Text);
    }
}

public sealed class ScenarioEvaluatorTests
{
    private const string Scenario = """
        {"policy": "{\"tagOwners\": {\"tag:server\": [\"odin@example.com\"]}, \"acls\": [{\"action\": \"accept\", \"src\": [\"odin@example.com\"], \"dst\": [\"tag:server:22\"]}]}",
         "tailnet": {"name": "odin@example.com"},
         "users": [{"id": 1, "name": "odin", "email": "odin@example.com"}],
         "nodes": [
           {"name": "laptop", "user": "odin@example.com", "tags": [], "ipv4": "100.64.0.1", "ipv6": "fd7a:115c:a1e0::1", "routable_ips": [], "approved_routes": [], "order": 1},
           {"name": "server", "user": null, "tags": ["tag:server"], "ipv4": "100.64.0.2", "ipv6": "fd7a:115c:a1e0::2", "routable_ips": [], "approved_routes": [], "order": 2}
         ],
         "status": 400, "error": "must not be read", "expect": {}}
        """;

    [Fact]
    public void Prints_every_field_for_every_node_in_the_corpus_shape()
    {
        using var doc = JsonDocument.Parse(ScenarioEvaluator.Evaluate(Scenario));
        var root = doc.RootElement;
        Assert.Equal(JsonValueKind.Null, root.GetProperty("error").ValueKind);
        var server = root.GetProperty("nodes").GetProperty("server");
        foreach (var field in new[] { "packet_filter_rules", "ssh_rules", "peers", "node", "approvable_routes" })
            Assert.True(server.TryGetProperty(field, out _), field);
        Assert.Equal(1, server.GetProperty("packet_filter_rules").GetArrayLength());
        var peer = Assert.Single(server.GetProperty("peers").EnumerateArray());
        Assert.Equal("laptop", peer.GetProperty("name").GetString());
        Assert.Equal(["100.64.0.1/32", "fd7a:115c:a1e0::1/128"], peer.GetProperty("allowed_ips").EnumerateArray().Select(e => e.GetString()));
        Assert.True(server.GetProperty("node").GetProperty("cap_map").TryGetProperty("https://tailscale.com/cap/ssh", out _));
    }

    [Fact]
    public void A_refused_policy_prints_the_error()
    {
        var refused = Scenario.Replace("tag:server:22", "tag:server:ssh", StringComparison.Ordinal);
        using var doc = JsonDocument.Parse(ScenarioEvaluator.Evaluate(refused));
        Assert.Equal("line 1, column 62: dst=\"tag:server:ssh\": port range \"ssh\": invalid first integer", doc.RootElement.GetProperty("error").GetString());
    }

    [Fact]
    public void A_malformed_scenario_is_reported()
    {
        var e = Assert.Throws<FormatException>(() => ScenarioEvaluator.Evaluate("{\"users\": [], \"nodes\": []}"));
        Assert.Equal("scenario: missing \"policy\"", e.Message);
    }
}
