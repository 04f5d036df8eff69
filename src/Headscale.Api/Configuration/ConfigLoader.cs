using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Headscale.Api.Configuration;

/// <summary>The raw configuration: values by dotted key, from the file and the environment.</summary>
public sealed record RawConfig(
    string? FilePath,
    string BaseDirectory,
    IReadOnlyDictionary<string, ConfigValue> Values,
    IReadOnlyList<ConfigProblem> Problems,
    IReadOnlyList<string> Warnings);

/// <summary>
/// Finds and reads <c>config.yaml</c> and applies <c>HEADSCALE_*</c> environment overrides.
/// Search order: <c>-c</c>, <c>HEADSCALE_CONFIG</c>, <c>/etc/headscale/</c>, <c>~/.headscale/</c>,
/// the working directory. No file at all is fine: every key has a default.
/// </summary>
public static class ConfigLoader
{
    public const string FileName = "config.yaml";
    public const string ConfigPathVariable = "HEADSCALE_CONFIG";

    public static RawConfig Load(string? explicitPath, IReadOnlyDictionary<string, string> environment, string workingDirectory)
    {
        var problems = new List<ConfigProblem>();
        var warnings = new List<string>();
        var values = new Dictionary<string, ConfigValue>(StringComparer.Ordinal);

        var path = Locate(explicitPath, environment, workingDirectory, problems);
        if (path is not null)
        {
            ReadFile(path, values, problems, warnings);
        }

        foreach (var (key, kind) in ConfigSchema.Keys)
        {
            var name = ConfigSchema.EnvironmentName(key);
            if (environment.TryGetValue(name, out var text))
            {
                values[key] = new ConfigValue(name, FromEnvironment(text, kind));
            }
        }

        var baseDirectory = path is null ? workingDirectory : Path.GetDirectoryName(path)!;
        return new RawConfig(path, baseDirectory, values, problems, warnings);
    }

    private static string? Locate(string? explicitPath, IReadOnlyDictionary<string, string> environment, string workingDirectory, List<ConfigProblem> problems)
    {
        foreach (var (given, origin) in new[] { (explicitPath, "--config"), (environment.GetValueOrDefault(ConfigPathVariable), ConfigPathVariable) })
        {
            if (string.IsNullOrWhiteSpace(given))
            {
                continue;
            }

            var full = Path.GetFullPath(given, workingDirectory);
            if (Directory.Exists(full))
            {
                full = Path.Combine(full, FileName);
            }

            if (!File.Exists(full))
            {
                problems.Add(new ConfigProblem(origin, $"config file '{full}' does not exist"));
                return null;
            }

            return full;
        }

        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        string[] candidates =
        [
            Path.Combine("/etc/headscale", FileName),
            Path.Combine(home, ".headscale", FileName),
            Path.Combine(workingDirectory, FileName),
        ];
        return candidates.FirstOrDefault(File.Exists);
    }

    private static void ReadFile(string path, Dictionary<string, ConfigValue> values, List<ConfigProblem> problems, List<string> warnings)
    {
        var stream = new YamlStream();
        try
        {
            using var reader = new StreamReader(path);
            stream.Load(reader);
        }
        catch (YamlException e)
        {
            problems.Add(new ConfigProblem(path, $"not valid YAML at line {e.Start.Line}, column {e.Start.Column}: {e.InnerException?.Message ?? e.Message}"));
            return;
        }
        catch (InvalidOperationException e)
        {
            // YamlDotNet's scanner throws this (without a position) on some unterminated constructs.
            problems.Add(new ConfigProblem(path, $"not valid YAML (an unterminated [ ], {{ }} or quote?): {e.Message}"));
            return;
        }
        catch (IOException e)
        {
            problems.Add(new ConfigProblem(path, $"cannot be read: {e.Message}"));
            return;
        }
        catch (UnauthorizedAccessException e)
        {
            problems.Add(new ConfigProblem(path, $"cannot be read: {e.Message}"));
            return;
        }

        if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is YamlScalarNode { Value: null or "" })
        {
            return;
        }

        if (stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            problems.Add(new ConfigProblem(path, "the top level must be a mapping of keys to values"));
            return;
        }

        Flatten(root, prefix: "", Path.GetFileName(path), values, problems, warnings);
    }

    private static void Flatten(YamlMappingNode mapping, string prefix, string fileName, Dictionary<string, ConfigValue> values, List<ConfigProblem> problems, List<string> warnings)
    {
        foreach (var (keyNode, valueNode) in mapping.Children)
        {
            var name = (keyNode as YamlScalarNode)?.Value ?? "";
            var key = prefix.Length == 0 ? name : prefix + "." + name;
            var origin = $"{fileName}:{keyNode.Start.Line}";

            if (ConfigSchema.Removed.TryGetValue(key, out var replacement))
            {
                problems.Add(new ConfigProblem(key, $"is no longer supported: {replacement}"));
            }
            else if (ConfigSchema.Keys.TryGetValue(key, out var kind))
            {
                if (kind == ConfigKeyKind.Scalar && valueNode is not YamlScalarNode)
                {
                    problems.Add(new ConfigProblem(key, $"expected a single value ({origin})"));
                }
                else if (kind == ConfigKeyKind.List && valueNode is YamlMappingNode)
                {
                    problems.Add(new ConfigProblem(key, $"expected a list ({origin})"));
                }
                else
                {
                    values[key] = new ConfigValue(origin, valueNode);
                }
            }
            else if (ConfigSchema.Sections.Contains(key) && valueNode is YamlMappingNode section)
            {
                Flatten(section, key, fileName, values, problems, warnings);
            }
            else if (ConfigSchema.Sections.Contains(key) && valueNode is YamlScalarNode s && new ConfigValue(origin, s).IsNullValue)
            {
                // An empty section ("dns:") means all defaults.
            }
            else if (ConfigSchema.Sections.Contains(key))
            {
                problems.Add(new ConfigProblem(key, $"expected a mapping ({origin})"));
            }
            else
            {
                warnings.Add($"unknown configuration key '{key}' ({origin}) is ignored");
            }
        }
    }

    private static YamlNode FromEnvironment(string text, ConfigKeyKind kind)
    {
        if (kind != ConfigKeyKind.List)
        {
            return new YamlScalarNode(text) { Style = ScalarStyle.DoubleQuoted };
        }

        var items = text.Split([',', ' ', '\t', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return new YamlSequenceNode(items.Select(i => new YamlScalarNode(i) { Style = ScalarStyle.DoubleQuoted }));
    }
}
