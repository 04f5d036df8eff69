using System.Collections.Immutable;
using Headscale.Policy.Compilation;
using Headscale.Policy.Model;
using Headscale.Policy.Parsing;
using Headscale.Policy.Snapshot;
using Headscale.Policy.Testing;

namespace Headscale.Policy;

/// <summary>Result of <see cref="PolicyChecker.Check"/>: the accepted policy, or the errors; plus every test outcome.</summary>
public sealed record PolicyCheckResult(ParsedPolicy? Policy, ImmutableArray<PolicyError> Errors, ImmutableArray<TestOutcome> Tests)
{
    public bool IsValid => Policy is not null;

    /// <summary>The message the service gives when the policy is refused, or null when it is accepted.</summary>
    public string? ErrorMessage => Errors.IsEmpty ? null : string.Join("\n", Errors.Select(e => e.ToString()));
}

/// <summary>
/// <c>headscale policy check</c>: parse, validate, then run the policy's own <c>tests</c> and <c>sshTests</c>
/// against a snapshot (an empty tailnet when none is given). Failing tests refuse the policy with
/// "test(s) failed" followed by one line per failure.
/// </summary>
public static class PolicyChecker
{
    public static PolicyCheckResult Check(string huJsonText, TailnetSnapshot? snapshot = null, ImmutableArray<string> associatedDomains = default)
    {
        var load = PolicyLoader.Load(huJsonText, associatedDomains);
        if (load.Policy is null) return new PolicyCheckResult(null, load.Errors, []);
        var doc = load.Policy.Document;
        var structural = SshTestStructure(doc);
        if (!structural.IsEmpty) return new PolicyCheckResult(null, structural, []);
        if (doc.Tests.IsEmpty && doc.SshTests.IsEmpty) return new PolicyCheckResult(load.Policy, [], []);

        var index = new TailnetIndex(snapshot ?? TailnetSnapshot.Empty);
        var resolver = new AliasResolver(doc, index);
        var rules = RuleBuilder.Build(doc, resolver);
        var outcomes = new PolicyTester(doc, resolver, rules).Run()
            .Concat(new SshTester(doc, resolver, new SshCompiler(doc, resolver, "https://unused")).Run())
            .ToImmutableArray();
        var failed = outcomes.Where(o => !o.Passed).ToList();
        if (failed.Count == 0) return new PolicyCheckResult(load.Policy, [], outcomes);
        var message = "test(s) failed:\n" + string.Join("\n", failed.Select(f => $"{f.Section}[{f.Index}]: {f.Detail}"));
        return new PolicyCheckResult(null, [new PolicyError(message)], outcomes);
    }

    /// <summary>Problems in <c>sshTests</c> that the service reports with their own message rather than as failures.</summary>
    private static ImmutableArray<PolicyError> SshTestStructure(PolicyDocument doc)
    {
        var errors = ImmutableArray.CreateBuilder<PolicyError>();
        var tags = doc.TagOwners.Select(t => t.Tag).ToHashSet(StringComparer.Ordinal);
        foreach (var t in doc.SshTests)
        {
            foreach (var d in t.Dst)
            {
                var a = Alias.Parse(d);
                if (a.Kind == AliasKind.AutoGroup && a.Text is Alias.AutoGroupInternet or Alias.AutoGroupDangerAll or Alias.AutoGroupSelf)
                    errors.Add(new PolicyError($"SSH tests dst contains disallowed element {DestinationParser.Quote(d)}", t.Position));
                else if (a.Kind == AliasKind.Tag && !tags.Contains(d))
                    errors.Add(new PolicyError($"SSH tests dst contains unknown tag {DestinationParser.Quote(d)}", t.Position));
            }
            foreach (var u in t.Accept.Concat(t.Check).Concat(t.Deny))
                if (u == "*") errors.Add(new PolicyError($"user {DestinationParser.Quote(u)} is not valid", t.Position));
        }
        return errors.ToImmutable();
    }
}
