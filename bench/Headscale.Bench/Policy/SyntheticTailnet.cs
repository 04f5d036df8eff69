using System.Collections.Immutable;
using System.Net;
using System.Text;
using Headscale.Policy.Snapshot;

namespace Headscale.Bench.Policy;

/// <summary>
/// A deterministic large tailnet and policy for the policy benchmarks: users in groups, tagged servers and
/// routers, and a rule mix of group→tag, tag→tag, user→tag, autogroup:self and a few wildcard rules.
/// </summary>
public static class SyntheticTailnet
{
    public static TailnetSnapshot Build(int nodeCount, int userCount, int tagCount)
    {
        var users = ImmutableArray.CreateBuilder<TailnetUser>(userCount);
        for (var u = 0; u < userCount; u++) users.Add(new TailnetUser((ulong)u + 1, $"user{u}", $"user{u}@example.com"));
        var nodes = ImmutableArray.CreateBuilder<TailnetNode>(nodeCount);
        for (var i = 0; i < nodeCount; i++)
        {
            var tagged = i % 10 < 3; // 30 % tagged
            var id = (ulong)i + 1;
            var v4 = new IPAddress([100, (byte)(64 + (i >> 16)), (byte)(i >> 8), (byte)i]);
            var v6 = IPAddress.Parse($"fd7a:115c:a1e0::{i >> 16:x}:{i & 0xffff:x}");
            ImmutableArray<IPNetwork> routes = tagged && i % 97 == 0 ? [IPNetwork.Parse($"10.{i % 250}.0.0/16")] : [];
            // Spread tags and owners so that every tag and every user has devices.
            nodes.Add(new TailnetNode(id, $"node{i}", tagged ? null : $"user{i / 10 * 7 % userCount + i % 10 % 7}@example.com",
                tagged ? [$"tag:t{i / 10 % tagCount}"] : [], v4, v6, routes, routes, i));
        }
        return new TailnetSnapshot(users.ToImmutable(), nodes.ToImmutable(), ["example.com"]);
    }

    public static string Policy(int ruleCount, int userCount, int tagCount, int groupCount)
    {
        var sb = new StringBuilder("{\n\"groups\": {");
        for (var g = 0; g < groupCount; g++)
        {
            if (g > 0) sb.Append(',');
            sb.Append($"\"group:g{g}\": [");
            for (var m = 0; m < 10; m++) sb.Append(m > 0 ? "," : "").Append($"\"user{(g * 10 + m) % userCount}@example.com\"");
            sb.Append(']');
        }
        sb.Append("},\n\"tagOwners\": {");
        for (var t = 0; t < tagCount; t++) sb.Append(t > 0 ? "," : "").Append($"\"tag:t{t}\": [\"group:g0\"]");
        sb.Append("},\n\"acls\": [\n");
        for (var r = 0; r < ruleCount; r++)
        {
            if (r > 0) sb.Append(",\n");
            var (src, dst) = (r % 20) switch
            {
                0 => ("\"autogroup:member\"", "\"autogroup:self:*\""),
                1 => ($"\"tag:t{r % tagCount}\"", $"\"tag:t{(r + 1) % tagCount}:5432\""),
                2 => ($"\"user{r % userCount}@example.com\"", $"\"tag:t{r % tagCount}:22\""),
                3 when r % 200 == 3 => ("\"*\"", $"\"tag:t{r % tagCount}:443\""),
                4 => ($"\"group:g{r % groupCount}\"", $"\"10.{r % 250}.0.0/16:*\""),
                _ => ($"\"group:g{r % groupCount}\"", $"\"tag:t{r % tagCount}:{1000 + r}\""),
            };
            sb.Append($"{{\"action\": \"accept\", \"src\": [{src}], \"dst\": [{dst}]}}");
        }
        sb.Append("\n]\n}");
        return sb.ToString();
    }
}
