using System.Collections.Immutable;
using Headscale.Protocol.Tailcfg;

namespace Headscale.Api.ControlPlane;

/// <summary>What <c>/machine/map</c> needs from the domain: finding the node and storing what it reports.</summary>
public interface IMapNodeDirectory
{
    /// <summary>
    /// The id of the node with this node key, only if it belongs to this machine key (a node key
    /// presented over another machine's Noise session must not be accepted). Null otherwise.
    /// </summary>
    Task<long?> FindNodeAsync(string machineKey, string nodeKey, CancellationToken cancellationToken);

    /// <summary>Stores a lite update's Hostinfo, endpoints and disco key, and tells the network map.</summary>
    Task ReportAsync(long nodeId, HostinfoSummary? hostinfo, ImmutableArray<string> endpoints, string? discoKey, CancellationToken cancellationToken);
}
