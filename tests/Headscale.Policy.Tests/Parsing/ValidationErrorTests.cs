using Xunit;

namespace Headscale.Policy.Tests.Parsing;

/// <summary>Every class of validation error, with the exact message an administrator sees.</summary>
public sealed class ValidationErrorTests
{
    private const string Tags = "\"tagOwners\": {\"tag:server\": [\"odin@example.com\"], \"tag:client\": [\"odin@example.com\"]}";

    private static IReadOnlyList<string> Errors(string policy) =>
        [.. PolicyLoader.Load(policy, ["example.com"]).Errors.Select(e => e.Message)];

    [Theory]
    // structure
    [InlineData("[]", "policy must be a JSON object, found array")]
    [InlineData("{\"aclz\": []}", "unknown field \"aclz\"")]
    [InlineData("{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:*\"], \"port\": 1}]}", "acls[0]: unknown field \"port\"")]
    [InlineData("{\"acls\": {}}", "acls: expected array, found object")]
    [InlineData("{\"acls\": [{\"action\": 1}]}", "acls[0].action: expected string, found number")]
    [InlineData("{\"groups\": {\"group:a\": \"odin@example.com\"}}", "groups[\"group:a\"]: expected array of strings, found string")]
    [InlineData("{\"randomizeClientPort\": \"yes\"}", "randomizeClientPort: expected boolean, found string")]
    [InlineData("{\"acls\": [\"accept\"]}", "acls[0]: expected object, found string")]
    [InlineData("{\"hosts\": []}", "hosts: expected object, found array")]
    [InlineData("{\"autoApprovers\": []}", "autoApprovers: expected object, found array")]
    [InlineData("{\"autoApprovers\": {\"routes\": []}}", "autoApprovers.routes: expected object, found array")]
    [InlineData("{\"autoApprovers\": {\"exitnodes\": []}}", "autoApprovers: unknown field \"exitnodes\"")]
    [InlineData("{\"grants\": [{\"src\": [\"*\"], \"dst\": [\"*\"], \"app\": []}]}", "grants[0].app: expected object, found array")]
    [InlineData("{\"grants\": [{\"src\": [\"*\"], \"dst\": [\"*\"], \"app\": {\"example.com/cap/x\": {}}}]}", "grants[0].app[\"example.com/cap/x\"]: expected array, found object")]
    [InlineData("{\"tests\": [{\"src\": [\"*\"]}]}", "tests[0].src: expected string, found array")]
    // groups, hosts, tagOwners
    [InlineData("{\"groups\": {\"admins\": []}}", "groups[\"admins\"]: group names must start with \"group:\"")]
    [InlineData("{\"groups\": {\"group:a\": [\"group:b\"], \"group:b\": []}}", "groups[\"group:a\"]: \"group:b\": group members cannot be recursive")]
    [InlineData("{\"groups\": {\"group:a\": [\"odin\"]}}", "groups[\"group:a\"]: \"odin\": group members must be users (user@domain)")]
    [InlineData("{\"hosts\": {\"web\": \"10.0.0.300\"}}", "hosts[\"web\"]: \"10.0.0.300\" is not a valid IP address or prefix")]
    [InlineData("{\"hosts\": {\"a@b\": \"10.0.0.1\"}}", "hosts[\"a@b\"]: invalid host name")]
    [InlineData("{\"tagOwners\": {\"server\": []}}", "tagOwners[\"server\"]: tag names must start with \"tag:\"")]
    [InlineData("{\"tagOwners\": {\"tag:sérver\": []}}", "tagOwners[\"tag:sérver\"]: tag names must be ASCII")]
    [InlineData("{\"tagOwners\": {\"tag:a\": [\"group:none\"]}}", "tagOwners[\"tag:a\"]: group not found: \"group:none\"")]
    [InlineData("{\"tagOwners\": {\"tag:a\": [\"tag:none\"]}}", "tagOwners[\"tag:a\"]: tag not found: \"tag:none\"")]
    [InlineData("{\"tagOwners\": {\"tag:a\": [\"10.0.0.1\"]}}", "tagOwners[\"tag:a\"]: \"10.0.0.1\": tag owners must be users, groups or tags")]
    // autoApprovers
    [InlineData("{\"autoApprovers\": {\"routes\": {\"10.0.0.0/33\": []}}}", "autoApprovers.routes: \"10.0.0.0/33\" is not a valid prefix")]
    [InlineData("{\"autoApprovers\": {\"exitNode\": [\"*\"]}}", "autoApprovers.exitNode: \"*\": approvers must be users, groups or tags")]
    [InlineData("{\"autoApprovers\": {\"exitNode\": [\"tag:none\"]}}", "autoApprovers.exitNode: tag not found: \"tag:none\"")]
    // acls
    [InlineData("{\"acls\": [{\"action\": \"deny\", \"src\": [\"*\"], \"dst\": [\"*:*\"]}]}", "action=\"deny\" is not supported")]
    [InlineData("{\"acls\": [{\"action\": \"accept\", \"proto\": \"tcpp\", \"src\": [\"*\"], \"dst\": [\"*:*\"]}]}", "proto=\"tcpp\": unknown protocol")]
    [InlineData("{\"acls\": [{\"action\": \"accept\", \"proto\": \"icmp\", \"src\": [\"*\"], \"dst\": [\"*:22\"]}]}", "dst=\"*:22\": proto=\"icmp\" does not support specific ports")]
    [InlineData("{\"hosts\": {\"internal\": \"10.0.0.0/8\"}, \"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"internal\"]}]}", "dst \"internal\": missing port")]
    [InlineData("{" + Tags + ", \"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"tag:server:ssh\"]}]}", "dst=\"tag:server:ssh\": port range \"ssh\": invalid first integer")]
    [InlineData("{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:22-x\"]}]}", "dst=\"*:22-x\": port range \"22-x\": invalid last integer")]
    [InlineData("{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:0\"]}]}", "dst=\"*:0\": port range \"0\": first port must be >0, or use '*' for wildcard")]
    [InlineData("{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:90-80\"]}]}", "dst=\"*:90-80\": port range \"90-80\": first port must be <= last port")]
    [InlineData("{\"acls\": [{\"action\": \"accept\", \"src\": [\"tag:nonexistent\"], \"dst\": [\"*:*\"]}]}", "src=tag not found: \"tag:nonexistent\"")]
    [InlineData("{\"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"tag:nonexistent:22\"]}]}", "dst=\"tag:nonexistent\": tag not found: \"tag:nonexistent\"")]
    [InlineData("{\"acls\": [{\"action\": \"accept\", \"src\": [\"group:none\"], \"dst\": [\"*:*\"]}]}", "src=group not found: \"group:none\"")]
    [InlineData("{\"acls\": [{\"action\": \"accept\", \"src\": [\"nohost\"], \"dst\": [\"*:*\"]}]}", "src=host not found: \"nohost\"")]
    [InlineData("{\"acls\": [{\"action\": \"accept\", \"src\": [\"autogroup:bogus\"], \"dst\": [\"*:*\"]}]}", "src=autogroup not found: \"autogroup:bogus\"")]
    [InlineData("{\"acls\": [{\"action\": \"accept\", \"src\": [\"autogroup:self\"], \"dst\": [\"*:*\"]}]}", "src=\"autogroup:self\": autogroup:self cannot be used as a src")]
    [InlineData("{" + Tags + ", \"acls\": [{\"action\": \"accept\", \"src\": [\"tag:client\"], \"dst\": [\"autogroup:self:*\"]}]}", "autogroup:self can only be used with users, groups, or supported autogroups")]
    [InlineData("{\"acls\": [{\"action\": \"accept\", \"src\": [\"user:*@example.org\"], \"dst\": [\"*:*\"]}]}", "example.org is not associated with this Tailnet and cannot be used in user:*@<domain> expressions")]
    // grants
    [InlineData("{\"grants\": [{\"src\": [\"*\"], \"dst\": [\"*\"]}]}", "ip and app can not both be empty")]
    [InlineData("{\"grants\": [{\"src\": [\"*\"], \"dst\": [\"*\"], \"ip\": [\"tcp:0\"]}]}", "ip=\"tcp:0\": port range \"0\": first port must be >0, or use '*' for wildcard")]
    [InlineData("{\"grants\": [{\"src\": [\"*\"], \"dst\": [\"*\"], \"ip\": [\"bogus:22\"]}]}", "ip=\"bogus:22\": proto=\"bogus\": unknown protocol")]
    [InlineData("{\"grants\": [{\"src\": [\"*\"], \"dst\": [\"*\"], \"app\": {\"https://tailscale.com/cap/ingress\": [{}]}}]}", "app=\"https://tailscale.com/cap/ingress\": capability name must have the form {domain}/{path}")]
    [InlineData("{\"grants\": [{\"src\": [\"*\"], \"dst\": [\"*\"], \"app\": {\"tailscale.com/cap/relay-target\": [{}]}}]}", "app=\"tailscale.com/cap/relay-target\": capability name must not be in the tailscale.com domain")]
    [InlineData("{\"grants\": [{\"src\": [\"*\"], \"dst\": [\"0.0.0.0/0\"], \"ip\": [\"*\"]}]}", "dst \"0.0.0.0/0\": to allow all IP addresses, use \"*\" or \"autogroup:internet\"")]
    [InlineData("{\"grants\": [{\"src\": [\"*\"], \"dst\": [\"autogroup:danger-all\"], \"ip\": [\"*\"]}]}", "cannot use autogroup:danger-all as a dst")]
    [InlineData("{\"grants\": [{\"src\": [\"*\"], \"dst\": [\"autogroup:self\"], \"ip\": [\"*\"]}]}", "autogroup:self can only be used with users, groups, or supported autogroups")]
    [InlineData("{\"grants\": [{\"src\": [\"*\"], \"dst\": [\"10.0.0.0/8\"], \"ip\": [\"*\"], \"via\": [\"router\"]}]}", "via=\"router\": via must be a tag")]
    // nodeAttrs
    [InlineData("{\"nodeAttrs\": [{\"target\": [\"autogroup:self\"], \"attr\": [\"funnel\"]}]}", "target=\"autogroup:self\": autogroup:self cannot be used as a nodeAttrs target")]
    [InlineData("{\"nodeAttrs\": [{\"target\": [\"tag:undefined-tag\"], \"attr\": [\"funnel\"]}]}", "target=tag not found: \"tag:undefined-tag\"")]
    [InlineData("{\"nodeAttrs\": [{\"target\": [\"*\"], \"ipPool\": [\"100.85.0.0/99\"]}]}", "ipPool=\"100.85.0.0/99\": not a valid prefix")]
    // ssh
    [InlineData("{" + Tags + ", \"ssh\": [{\"action\": \"Accept\", \"src\": [\"autogroup:member\"], \"dst\": [\"tag:server\"], \"users\": [\"root\"]}]}", "\"Accept\" is not a valid action")]
    [InlineData("{" + Tags + ", \"ssh\": [{\"action\": \"check\", \"checkPeriod\": \"abc\", \"src\": [\"autogroup:member\"], \"dst\": [\"tag:server\"], \"users\": [\"root\"]}]}", "time: invalid duration \"abc\"")]
    [InlineData("{" + Tags + ", \"ssh\": [{\"action\": \"check\", \"checkPeriod\": \"168h1s\", \"src\": [\"autogroup:member\"], \"dst\": [\"tag:server\"], \"users\": [\"root\"]}]}", "checkPeriod 168h0m1s is above the max (168h)")]
    [InlineData("{" + Tags + ", \"ssh\": [{\"action\": \"accept\", \"acceptEnv\": [\"\"], \"src\": [\"autogroup:member\"], \"dst\": [\"tag:server\"], \"users\": [\"root\"]}]}", "acceptEnv values cannot be empty")]
    [InlineData("{" + Tags + ", \"ssh\": [{\"action\": \"accept\", \"src\": [\"autogroup:member\"], \"dst\": [\"tag:server\"], \"users\": [\"\"]}]}", "user \"\" is not valid")]
    [InlineData("{" + Tags + ", \"ssh\": [{\"action\": \"accept\", \"src\": [\"autogroup:member\"], \"dst\": [\"tag:server\"], \"users\": [\"*\"]}]}", "user \"*\" is not valid")]
    [InlineData("{\"hosts\": {\"srv\": \"100.64.0.16\"}, \"ssh\": [{\"action\": \"accept\", \"src\": [\"autogroup:member\"], \"dst\": [\"srv\"], \"users\": [\"root\"]}]}", "invalid dst \"srv\"")]
    [InlineData("{" + Tags + ", \"ssh\": [{\"action\": \"accept\", \"src\": [\"user:*@example.org\"], \"dst\": [\"tag:server\"], \"users\": [\"root\"]}]}", "[ssh] example.org is not associated with this Tailnet and cannot be used in user:*@<domain> expressions")]
    [InlineData("{" + Tags + ", \"ssh\": [{\"action\": \"accept\", \"src\": [\"autogroup:member\"], \"dst\": [\"tag:server\"], \"users\": [\"localpart:*@example.org\"]}]}", "[ssh] example.org is not associated with this Tailnet and cannot be used in user:*@<domain> expressions")]
    public void Invalid_policy_is_rejected_with_the_exact_message(string policy, string expected)
    {
        var errors = Errors(policy);
        Assert.True(errors.Contains(expected), $"expected \"{expected}\" among: {string.Join(" | ", errors)}");
    }

    [Fact]
    public void Malformed_hujson_is_one_error_with_position_and_expectation()
    {
        var error = Assert.Single(PolicyLoader.Load("{\n  \"acls\": [\n").Errors);
        Assert.Equal("line 3, column 1: invalid HuJSON: expected a value, found end of input", error.ToString());
    }

    [Fact]
    public void Unknown_field_error_names_its_position()
    {
        var result = PolicyLoader.Load("{\n  \"acls\": [],\n  \"bogus\": 1\n}");
        var error = Assert.Single(result.Errors);
        Assert.Equal(new HuJson.TextPosition(3, 3), error.Position);
        Assert.Equal("line 3, column 3: unknown field \"bogus\"", error.ToString());
    }

    [Fact]
    public void Field_names_match_case_insensitively_and_comment_keys_are_ignored()
    {
        var result = PolicyLoader.Load("{\"ACLs\": [{\"#note\": \"x\", \"Action\": \"accept\", \"SRC\": [\"*\"], \"dst\": [\"*:*\"]}]}");
        Assert.True(result.IsValid, result.ErrorMessage);
    }

    [Fact]
    public void Every_error_is_reported_together()
    {
        var errors = Errors("{\"acls\": [{\"action\": \"deny\", \"src\": [\"tag:a\"], \"dst\": [\"tag:b:22\"]}]}");
        Assert.Equal(3, errors.Count);
    }

    [Fact]
    public void Valid_policy_with_every_section_loads()
    {
        const string policy = """
            {
              // comments and trailing commas are part of the format
              "groups": {"group:admins": ["odin@example.com"]}, /* inline */
              "hosts": {"internal": "10.0.0.0/8"},
              "tagOwners": {"tag:server": ["group:admins"], "tag:router": ["odin@example.com"]},
              "autoApprovers": {"routes": {"10.0.0.0/8": ["tag:router"]}, "exitNode": ["tag:router"]},
              "acls": [{"action": "accept", "proto": "tcp", "src": ["group:admins"], "dst": ["tag:server:22,80-90", "internal:*"]}],
              "grants": [{"src": ["*"], "dst": ["tag:server"], "ip": ["tcp:443"], "app": {"example.com/cap/x": [{"k": 1}]}}],
              "ssh": [{"action": "check", "checkPeriod": "12h", "src": ["group:admins"], "dst": ["tag:server"], "users": ["root", "autogroup:nonroot"], "acceptEnv": ["LANG"]}],
              "nodeAttrs": [{"target": ["*"], "attr": ["randomize-client-port"]}],
              "tests": [{"src": "odin@example.com", "accept": ["tag:server:22"]}],
              "sshTests": [{"src": "odin@example.com", "dst": ["tag:server"], "check": ["root"]}],
              "randomizeClientPort": false,
            }
            """;
        var result = PolicyLoader.Load(policy, ["example.com"]);
        Assert.True(result.IsValid, result.ErrorMessage);
    }
}
