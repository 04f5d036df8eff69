using YamlDotNet.RepresentationModel;

namespace Headscale.Api.Configuration;

/// <summary>A raw configuration value before typing, with where it came from.</summary>
/// <param name="Origin">For messages: <c>config.yaml:12</c> or <c>HEADSCALE_LISTEN_ADDR</c>.</param>
/// <param name="Node">The YAML node; environment values are turned into scalar or sequence nodes.</param>
public sealed record ConfigValue(string Origin, YamlNode Node)
{
    /// <summary>The text of a scalar, or null when the value is not a scalar (or is YAML null).</summary>
    public string? Scalar => Node is YamlScalarNode s && !IsNull(s) ? s.Value : null;

    public bool IsScalar => Node is YamlScalarNode;

    public bool IsNullValue => Node is YamlScalarNode s && IsNull(s);

    private static bool IsNull(YamlScalarNode s) =>
        s.Style == YamlDotNet.Core.ScalarStyle.Plain && s.Value is null or "" or "~" or "null" or "Null" or "NULL";
}
