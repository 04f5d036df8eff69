using System.Text.Json;
using Xunit;

namespace Headscale.Policy.Tests.Conformance;

/// <summary>The judge must reject real differences and accept only the equivalences the corpus README allows.</summary>
public sealed class ConformanceJudgeTests
{
    private const string Expect = """
        {"status": 200, "expect": {"a": {
          "packet_filter_rules": [{"SrcIPs": ["1.1.1.1", "2.2.2.2"], "DstPorts": [{"IP": "*", "Ports": {"First": 0, "Last": 65535}}]},
                                  {"SrcIPs": ["3.3.3.3"], "DstPorts": [{"IP": "*", "Ports": {"First": 22, "Last": 22}}], "IPProto": [6]}],
          "ssh_rules": [{"principals": [{"nodeIP": "1.1.1.1"}], "sshUsers": {"root": ""}, "action": {"accept": true}}],
          "peers": [{"name": "b", "allowed_ips": ["100.64.0.2/32"], "cap_map": {"x": null}}]}}}
        """;

    private static string? Judge(string scenario, string output)
    {
        using var s = JsonDocument.Parse(scenario);
        using var o = JsonDocument.Parse(output);
        return ConformanceJudge.Judge(s.RootElement, o.RootElement);
    }

    private static string Output(string rules, string ssh = """[{"principals": [{"nodeIP": "1.1.1.1"}], "sshUsers": {"root": ""}, "action": {"accept": true, "reject": false}}]""",
        string peers = """[{"name": "b", "allowed_ips": ["100.64.0.2"], "cap_map": {"x": [], "ssh-behavior-v1": []}}]""") =>
        "{\"error\": null, \"nodes\": {\"a\": {\"packet_filter_rules\": " + rules + ", \"ssh_rules\": " + ssh + ", \"peers\": " + peers + "}}}";

    private const string GoodRules = """
        [{"SrcIPs": ["2.2.2.2", "1.1.1.1"], "DstPorts": [{"IP": "*", "Ports": {"First": 0, "Last": 65535}}], "IPProto": []},
         {"SrcIPs": ["3.3.3.3"], "DstPorts": [{"IP": "*", "Ports": {"First": 22, "Last": 22}}], "IPProto": [6]}]
        """;

    [Fact]
    public void Allowed_equivalences_pass() => Assert.Null(Judge(Expect, Output(GoodRules)));

    [Fact]
    public void Rule_order_matters()
    {
        using var rules = JsonDocument.Parse(GoodRules);
        var swapped = "[" + rules.RootElement[1].GetRawText() + "," + rules.RootElement[0].GetRawText() + "]";
        Assert.StartsWith("a.packet_filter_rules: rule 0 SrcIPs", Judge(Expect, Output(swapped)));
    }

    [Fact]
    public void Src_ips_are_literal_strings() =>
        Assert.NotNull(Judge(Expect, Output(GoodRules.Replace("\"1.1.1.1\"", "\"1.1.1.1/32\"", StringComparison.Ordinal))));

    [Fact]
    public void Absent_protocol_is_not_the_default_list() =>
        Assert.NotNull(Judge(Expect, Output(GoodRules.Replace("\"IPProto\": []", "\"IPProto\": [6, 17, 1, 58]", StringComparison.Ordinal))));

    [Fact]
    public void Ssh_users_must_match_exactly() =>
        Assert.NotNull(Judge(Expect, Output(GoodRules, ssh: """[{"principals": [{"nodeIP": "1.1.1.1"}], "sshUsers": {}, "action": {"accept": true}}]""")));

    [Fact]
    public void Peer_sets_must_match() =>
        Assert.Equal("a.peers: missing [] extra [c]", Judge(Expect, Output(GoodRules, peers: """[{"name": "b", "allowed_ips": ["100.64.0.2/32"]}, {"name": "c"}]""")));

    [Fact]
    public void Rejections_match_by_substring()
    {
        const string scenario = """{"status": 400, "error": "tag not found", "error_match": "substring", "expect": {}}""";
        Assert.Null(Judge(scenario, """{"error": "line 1: src=tag not found: \"tag:x\"", "nodes": {}}"""));
        Assert.NotNull(Judge(scenario, """{"error": "something else", "nodes": {}}"""));
        Assert.NotNull(Judge(scenario, """{"error": null, "nodes": {}}"""));
    }
}
