using Headscale.Policy.Model;

namespace Headscale.Policy.Parsing;

public sealed partial class PolicyValidator
{
    /// <summary>The longest <c>checkPeriod</c> the service accepts.</summary>
    public static readonly TimeSpan MaxCheckPeriod = TimeSpan.FromHours(168);

    private void CheckSsh()
    {
        foreach (var rule in _policy.Ssh)
        {
            if (rule.Action is not ("accept" or "check"))
                Fail($"{Q(rule.Action)} is not a valid action", rule.Position);
            if (rule.CheckPeriod is { } period && period != "always")
            {
                if (!GoDuration.TryParse(period, out var d, out var error)) Fail(error!, rule.Position);
                else if (d > MaxCheckPeriod) Fail($"checkPeriod {GoDuration.Format(d)} is above the max (168h)", rule.Position);
            }
            foreach (var env in rule.AcceptEnv)
                if (env.Length == 0) Fail("acceptEnv values cannot be empty", rule.Position);
            foreach (var user in rule.Users) CheckSshUser(user, rule.Position);
            var hasSelf = false;
            foreach (var d in rule.Dst)
            {
                var a = Alias.Parse(d);
                if (a.Kind is AliasKind.Host or AliasKind.Prefix) { Fail($"invalid dst {Q(d)}", rule.Position); continue; }
                CheckDestinationAlias(a);
                hasSelf |= a.IsAutoGroup(Alias.AutoGroupSelf);
            }
            foreach (var s in rule.Src)
            {
                var a = Alias.Parse(s.Trim());
                if (a.Kind == AliasKind.User && a.Text.StartsWith("*@", StringComparison.Ordinal))
                {
                    CheckUserDomain(a.Text, "[ssh] ");
                    continue;
                }
                CheckReference(a, "src=");
            }
        }
    }

    private void CheckSshUser(string user, HuJson.TextPosition position)
    {
        user = user.Trim();
        if (user.Length == 0 || user == "*") { Fail($"user {Q(user)} is not valid", position); return; }
        if (user.StartsWith("localpart:", StringComparison.Ordinal))
        {
            var rest = user["localpart:".Length..];
            if (rest.StartsWith("*@", StringComparison.Ordinal) && rest.Length > 2) CheckUserDomain(rest, "[ssh] ");
        }
    }
}
