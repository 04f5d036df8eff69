using Headscale.Policy.HuJson;

namespace Headscale.Policy.Parsing;

/// <summary>
/// One problem found in a policy. <see cref="Message"/> uses Tailscale's wording where the service
/// has one (the conformance corpus pins it); <see cref="Position"/> is set when the problem is tied to a
/// place in the text.
/// </summary>
public sealed record PolicyError(string Message, TextPosition? Position = null)
{
    public override string ToString() => Position is { } p ? $"{p}: {Message}" : Message;
}

/// <summary>Thrown by <see cref="Headscale.Policy.PolicyEngine"/> when a policy is refused; carries every error found.</summary>
public sealed class PolicyRejectedException(IReadOnlyList<PolicyError> errors)
    : Exception(string.Join("\n", errors.Select(e => e.ToString())))
{
    public IReadOnlyList<PolicyError> Errors { get; } = errors;
}
