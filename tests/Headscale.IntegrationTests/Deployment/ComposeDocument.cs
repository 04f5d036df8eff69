using System.Text.RegularExpressions;
using YamlDotNet.RepresentationModel;

namespace Headscale.IntegrationTests.Deployment;

/// <summary>
/// A compose file read with YamlDotNet, for static checks where no Docker engine exists: which
/// services, volumes and networks it defines and which ones each service refers to.
/// </summary>
public sealed partial class ComposeDocument
{
    private ComposeDocument(string path, YamlMappingNode root)
    {
        Path = path;
        Root = root;
    }

    public string Path { get; }

    public YamlMappingNode Root { get; }

    public static ComposeDocument Load(params string[] repositoryPath)
    {
        var path = RepositoryFiles.PathOf(repositoryPath);
        var stream = new YamlStream();
        using (var reader = new StringReader(File.ReadAllText(path)))
        {
            stream.Load(reader);
        }

        if (stream.Documents.Count != 1 || stream.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new InvalidDataException($"{path}: expected one YAML mapping");
        }

        return new ComposeDocument(path, root);
    }

    public IReadOnlyDictionary<string, YamlMappingNode> Services => Section("services");

    public IReadOnlyCollection<string> Volumes => Section("volumes").Keys.ToArray();

    public IReadOnlyCollection<string> Networks => Section("networks").Keys.ToArray();

    public YamlMappingNode Service(string name) =>
        Services.TryGetValue(name, out var service) ? service : throw new KeyNotFoundException($"{Path}: no service '{name}'");

    /// <summary>Services named in depends_on (list or map form).</summary>
    public static IEnumerable<string> DependsOn(YamlMappingNode service) => service.Children.TryGetValue("depends_on", out var node)
        ? node switch
        {
            YamlSequenceNode list => list.Children.Select(Scalar),
            YamlMappingNode map => map.Children.Keys.Select(Scalar),
            _ => throw new InvalidDataException("depends_on must be a list or a map"),
        }
        : [];

    public static IEnumerable<string> NetworksOf(YamlMappingNode service) => service.Children.TryGetValue("networks", out var node)
        ? node switch
        {
            YamlSequenceNode list => list.Children.Select(Scalar),
            YamlMappingNode map => map.Children.Keys.Select(Scalar),
            _ => throw new InvalidDataException("networks must be a list or a map"),
        }
        : [];

    /// <summary>Short-form volume entries split into (source, target); long form is not used in our files.</summary>
    public static IEnumerable<(string Source, string Target)> VolumeMounts(YamlMappingNode service) =>
        service.Children.TryGetValue("volumes", out var node)
            ? ((YamlSequenceNode)node).Children.Select(Scalar).Select(entry =>
            {
                var parts = entry.Split(':');
                return parts.Length >= 2 ? (parts[0], parts[1]) : throw new InvalidDataException($"volume '{entry}' has no target");
            })
            : [];

    public static bool IsBindMount(string source) => source.StartsWith('.') || source.StartsWith('/') || source.StartsWith('~');

    public static IEnumerable<string> Ports(YamlMappingNode service) =>
        service.Children.TryGetValue("ports", out var node) ? ((YamlSequenceNode)node).Children.Select(Scalar) : [];

    public static string? Get(YamlMappingNode node, params string[] path) => Node(node, path) switch
    {
        null => null,
        YamlScalarNode scalar => scalar.Value,
        var other => other.ToString(),
    };

    public static YamlNode? Node(YamlMappingNode node, params string[] path)
    {
        YamlNode current = node;
        foreach (var key in path)
        {
            if (current is not YamlMappingNode map || !map.Children.TryGetValue(key, out var next))
            {
                return null;
            }

            current = next;
        }

        return current;
    }

    /// <summary>Every <c>${NAME…}</c> interpolation in the raw text, with whether it has a default.</summary>
    public IEnumerable<(string Name, bool HasDefault)> Interpolations() =>
        Interpolation().Matches(File.ReadAllText(Path))
            .Select(m => (m.Groups[1].Value, m.Groups[2].Value.StartsWith(":-", StringComparison.Ordinal) || m.Groups[2].Value.StartsWith('-')));

    public static string Scalar(YamlNode node) =>
        node is YamlScalarNode { Value: { } value } ? value : throw new InvalidDataException($"expected a scalar at {node.Start}");

    private IReadOnlyDictionary<string, YamlMappingNode> Section(string name) =>
        Root.Children.TryGetValue(name, out var node) && node is YamlMappingNode map
            ? map.Children.ToDictionary(p => Scalar(p.Key), p => p.Value as YamlMappingNode ?? new YamlMappingNode())
            : new Dictionary<string, YamlMappingNode>();

    // $$ escapes a dollar for the container's shell and is not an interpolation.
    [GeneratedRegex(@"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)([^}]*)\}")]
    private static partial Regex Interpolation();
}
