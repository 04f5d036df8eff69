using System.Collections.Immutable;
using Headscale.Policy.Model;
using Headscale.Policy.Parsing;

namespace Headscale.Policy;

/// <summary>A policy text that parsed and validated; immutable and safe to share.</summary>
public sealed record ParsedPolicy(PolicyDocument Document, string Text);

/// <summary>The outcome of loading a policy: either <see cref="Policy"/> or the errors that refused it.</summary>
public sealed record PolicyLoadResult(ParsedPolicy? Policy, ImmutableArray<PolicyError> Errors)
{
    public bool IsValid => Policy is not null;

    /// <summary>All errors as one message, one per line (what the API and CLI print).</summary>
    public string ErrorMessage => string.Join("\n", Errors.Select(e => e.ToString()));
}

public static class PolicyLoader
{
    /// <summary>
    /// Parses and validates a HuJSON policy. <paramref name="associatedDomains"/> are the domains the
    /// tailnet owns (allowed in <c>user:*@domain</c>); they are configuration, not topology.
    /// </summary>
    public static PolicyLoadResult Load(string text, ImmutableArray<string> associatedDomains = default)
    {
        var (doc, errors) = PolicyReader.Read(text);
        if (doc is null) return new PolicyLoadResult(null, errors);
        var validation = PolicyValidator.Validate(doc, associatedDomains);
        return validation.IsEmpty
            ? new PolicyLoadResult(new ParsedPolicy(doc, text), [])
            : new PolicyLoadResult(null, validation);
    }
}

/// <summary>
/// Holds the policy in force. A new text replaces it only if it loads cleanly (and, when a snapshot is
/// given, its own tests pass); otherwise the previous policy stays and the errors are returned.
/// </summary>
public sealed class PolicyStore(ParsedPolicy initial)
{
    private ParsedPolicy _current = initial;

    public ParsedPolicy Current => Volatile.Read(ref _current);

    public PolicyCheckResult TryReplace(string text, Snapshot.TailnetSnapshot snapshot, ImmutableArray<string> associatedDomains = default)
    {
        var result = PolicyChecker.Check(text, snapshot, associatedDomains);
        if (result.Policy is not null) Volatile.Write(ref _current, result.Policy);
        return result;
    }
}
