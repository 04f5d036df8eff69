namespace Headscale.Api.Configuration;

/// <summary>How a configuration key's value is shaped in YAML and in environment variables.</summary>
public enum ConfigKeyKind
{
    /// <summary>A single value (text, number, boolean, duration, address, path).</summary>
    Scalar,

    /// <summary>A YAML sequence of scalars; from the environment, a comma- or space-separated list.</summary>
    List,

    /// <summary>A YAML mapping or sequence of mappings that is read as a whole (e.g. <c>dns.nameservers.split</c>).</summary>
    Structured,
}
