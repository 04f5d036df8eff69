using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Headscale.Derp.Protocol;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Headscale.Derp.Map;

/// <summary>A DERP map source is invalid; the message names the source and what is wrong.</summary>
public sealed class DerpMapException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>Parsing, validation, merging and the embedded region (derp-protocol.md §9–§10). Pure functions.</summary>
public static class DerpMapLoader
{
    private static readonly IDeserializer Yaml = new DeserializerBuilder()
        .WithNamingConvention(LowerCaseNamingConvention.Instance)
        .Build();

    public static DerpMap ParseJson(ReadOnlySpan<byte> json, string source)
    {
        DerpMap? map;
        try
        {
            map = JsonSerializer.Deserialize(json, DerpJsonContext.Default.DerpMap);
        }
        catch (JsonException e)
        {
            throw new DerpMapException($"DERP map {source} is not valid JSON: {e.Message}", e);
        }
        return Validate(map ?? throw new DerpMapException($"DERP map {source} is null."), source);
    }

    /// <summary>Parses headscale's YAML form: lower-case keys (<c>regions</c>, <c>regionid</c>, <c>hostname</c>, <c>stunport</c>, …).</summary>
    public static DerpMap ParseYaml(string yaml, string source)
    {
        DerpMap? map;
        try
        {
            map = Yaml.Deserialize<DerpMap?>(yaml);
        }
        catch (YamlException e)
        {
            var inner = e.InnerException?.Message is { } detail ? $" ({detail})" : "";
            throw new DerpMapException($"DERP map {source} is not valid YAML at line {e.Start.Line}, column {e.Start.Column}: {e.Message}{inner}", e);
        }
        return Validate(map ?? throw new DerpMapException($"DERP map {source} is empty."), source);
    }

    public static async Task<DerpMap> LoadFileAsync(string path, CancellationToken cancellationToken)
    {
        string text;
        try
        {
            text = await File.ReadAllTextAsync(path, cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new DerpMapException($"DERP map file {path} cannot be read: {e.Message}", e);
        }
        return path.EndsWith(".json", StringComparison.OrdinalIgnoreCase)
            ? ParseJson(Encoding.UTF8.GetBytes(text), path)
            : ParseYaml(text, path);
    }

    /// <summary>Checks ids and required fields; regions set to null are kept (they remove the region when merged).</summary>
    public static DerpMap Validate(DerpMap map, string source)
    {
        if (map.Regions is null) throw new DerpMapException($"DERP map {source} has no 'regions'.");
        foreach (var (id, region) in map.Regions)
        {
            if (region is null) continue;
            if (id <= 0) throw new DerpMapException($"DERP map {source}: region id {id} must be positive.");
            if (region.RegionID != id)
                throw new DerpMapException($"DERP map {source}: region under key {id} has RegionID {region.RegionID}.");
            if (region.Nodes is null || region.Nodes.Count == 0)
                throw new DerpMapException($"DERP map {source}: region {id} has no nodes.");
            foreach (var node in region.Nodes)
            {
                if (string.IsNullOrWhiteSpace(node.Name))
                    throw new DerpMapException($"DERP map {source}: a node of region {id} has no name.");
                if (string.IsNullOrWhiteSpace(node.HostName))
                    throw new DerpMapException($"DERP map {source}: node '{node.Name}' of region {id} has no hostname.");
                if (node.RegionID != id)
                    throw new DerpMapException($"DERP map {source}: node '{node.Name}' says region {node.RegionID} but is in region {id}.");
                if (node.STUNPort is < -1 or > 65535 || node.DERPPort is < 0 or > 65535)
                    throw new DerpMapException($"DERP map {source}: node '{node.Name}' has a port out of range.");
            }
        }
        return map;
    }

    /// <summary>The embedded server's region: one node named after the region id, host and port from <c>server_url</c>.</summary>
    public static DerpRegion BuildEmbeddedRegion(DerpEmbeddedRegionOptions options)
    {
        options.Validate();
        var serverUrl = new Uri(options.ServerUrl);
        var stun = Stun.StunServer.ParseListenAddress(options.StunListenAddr!);
        return new DerpRegion
        {
            RegionID = options.RegionId,
            RegionCode = options.RegionCode,
            RegionName = options.RegionName,
            Nodes =
            [
                new DerpNode
                {
                    Name = options.RegionId.ToString(System.Globalization.CultureInfo.InvariantCulture),
                    RegionID = options.RegionId,
                    HostName = serverUrl.Host,
                    DERPPort = serverUrl.Port,
                    IPv4 = options.IPv4,
                    IPv6 = options.IPv6,
                    STUNPort = stun.Port,
                },
            ],
        };
    }

    /// <summary>
    /// Merges sources in order (later wins per region id; a null region removes it), then puts the embedded region
    /// (it overrides any region with the same id), then shuffles nodes deterministically when a seed is given.
    /// </summary>
    public static DerpMap Merge(IEnumerable<DerpMap> sources, DerpRegion? embedded, string? shuffleSeed)
    {
        var regions = new SortedDictionary<int, DerpRegion>();
        DerpHomeParams? homeParams = null;
        var omitDefault = false;
        foreach (var source in sources)
        {
            homeParams = source.HomeParams ?? homeParams;
            omitDefault |= source.OmitDefaultRegions;
            foreach (var (id, region) in source.Regions ?? [])
            {
                if (region is null) regions.Remove(id);
                else regions[id] = region;
            }
        }
        if (embedded is not null) regions[embedded.RegionID] = embedded;
        var result = new Dictionary<int, DerpRegion?>();
        foreach (var (id, region) in regions)
            result[id] = shuffleSeed is null ? region : region with { Nodes = Shuffle(region.Nodes, shuffleSeed, id) };
        return new DerpMap { HomeParams = homeParams, Regions = result, OmitDefaultRegions = omitDefault };
    }

    private static List<DerpNode> Shuffle(List<DerpNode> nodes, string seed, int regionId)
    {
        if (nodes.Count < 2) return nodes;
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{seed}/{regionId}"));
        var random = new Random(BitConverter.ToInt32(hash, 0));
        var shuffled = nodes.ToList();
        for (var i = shuffled.Count - 1; i > 0; i--)
        {
            var j = random.Next(i + 1);
            (shuffled[i], shuffled[j]) = (shuffled[j], shuffled[i]);
        }
        return shuffled;
    }

    public static byte[] ToJson(DerpMap map) => JsonSerializer.SerializeToUtf8Bytes(map, DerpJsonContext.Default.DerpMap);
}
