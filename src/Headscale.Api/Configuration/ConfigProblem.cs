namespace Headscale.Api.Configuration;

/// <summary>One thing wrong with the configuration, named by its key.</summary>
/// <param name="Key">The dotted key (e.g. <c>prefixes.v4</c>), or the file for syntax errors.</param>
/// <param name="Message">What is wrong and what is expected.</param>
public sealed record ConfigProblem(string Key, string Message)
{
    public override string ToString() => $"{Key}: {Message}";
}

/// <summary>Thrown when the configuration cannot be used; carries every problem found.</summary>
public sealed class ConfigException(IReadOnlyList<ConfigProblem> problems)
    : Exception("invalid configuration:" + string.Concat(problems.Select(p => "\n  " + p)))
{
    public IReadOnlyList<ConfigProblem> Problems { get; } = problems;
}
