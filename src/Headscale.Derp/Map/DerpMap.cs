using System.Text.Json.Serialization;

namespace Headscale.Derp.Map;

/// <summary>
/// <c>tailcfg.DERPMap</c> as sent in <c>MapResponse.DERPMap</c> (derp-protocol.md §9).
/// Key names are PascalCase except <c>omitDefaultRegions</c>; region keys are decimal strings.
/// </summary>
public sealed record DerpMap
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public DerpHomeParams? HomeParams { get; init; }

    /// <summary>Region id → region. Null means "unchanged" in a delta; a null region value removes it.</summary>
    public Dictionary<int, DerpRegion?>? Regions { get; init; }

    [JsonPropertyName("omitDefaultRegions"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool OmitDefaultRegions { get; init; }
}

public sealed record DerpHomeParams
{
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public Dictionary<int, double>? RegionScore { get; init; }
}

public sealed record DerpRegion
{
    public int RegionID { get; init; }
    public string RegionCode { get; init; } = "";
    public string RegionName { get; init; } = "";

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public double Latitude { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public double Longitude { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool Avoid { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool NoMeasureNoHome { get; init; }

    public List<DerpNode> Nodes { get; init; } = [];
}

public sealed record DerpNode
{
    public string Name { get; init; } = "";
    public int RegionID { get; init; }
    public string HostName { get; init; } = "";

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public string? CertName { get; init; }

    [JsonPropertyName("IPv4"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public string? IPv4 { get; init; }

    [JsonPropertyName("IPv6"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public string? IPv6 { get; init; }

    /// <summary>0 means 3478; -1 means no STUN on this node.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int STUNPort { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool STUNOnly { get; init; }

    /// <summary>0 means 443.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int DERPPort { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool InsecureForTests { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public string? STUNTestIP { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool CanPort80 { get; init; }
}

/// <summary><c>tailcfg.DERPAdmitClientRequest</c>: body of <c>POST /verify</c>.</summary>
public sealed record DerpAdmitClientRequest
{
    public string NodePublic { get; init; } = "";
    public string? Source { get; init; }
}

/// <summary><c>tailcfg.DERPAdmitClientResponse</c>.</summary>
public sealed record DerpAdmitClientResponse
{
    public bool Allow { get; init; }
}
