using System.Text.Json;
using System.Text.Json.Serialization;

namespace Headscale.Protocol.Tailcfg;

/// <summary>
/// <c>tailcfg.MapRequest</c> as a client sends it to <c>POST /machine/map</c>. Keys stay in their
/// text forms here; the endpoint parses and validates them. <see cref="Hostinfo"/> is kept as raw
/// JSON so it can be echoed to peers exactly as reported.
/// </summary>
public sealed record MapRequest
{
    public int Version { get; init; }
    public string? Compress { get; init; }
    public bool KeepAlive { get; init; }
    public string? NodeKey { get; init; }
    public string? DiscoKey { get; init; }
    public bool Stream { get; init; }
    public JsonElement? Hostinfo { get; init; }
    public string? MapSessionHandle { get; init; }
    public long MapSessionSeq { get; init; }
    public string[]? Endpoints { get; init; }
    public int[]? EndpointTypes { get; init; }
    public string? TKAHead { get; init; }
    public bool ReadOnly { get; init; }
    public bool OmitPeers { get; init; }
    public string[]? DebugFlags { get; init; }

    /// <summary>True when the client asked for zstd-compressed frames.</summary>
    [JsonIgnore]
    public bool WantsZstd => string.Equals(Compress, "zstd", StringComparison.Ordinal);
}
