using Headscale.Policy;

namespace Headscale.Actors.Policy;

/// <summary>
/// Validates a policy text with the policy engine: HuJSON syntax, unknown fields, aliases, ports,
/// SSH rules and every other check, with the engine's messages (line and column included).
/// </summary>
public sealed class PolicyEngineValidator : IPolicyValidator
{
    public string? Validate(string text)
    {
        var result = PolicyLoader.Load(text);
        return result.IsValid ? null : result.ErrorMessage;
    }
}
