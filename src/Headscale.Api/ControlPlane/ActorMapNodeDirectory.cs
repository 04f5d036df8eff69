using System.Collections.Immutable;
using System.Text;
using Headscale.Actors.NetworkMap;
using Headscale.Actors.Nodes;
using Headscale.Protocol.Tailcfg;

namespace Headscale.Api.ControlPlane;

/// <summary>
/// <see cref="IMapNodeDirectory"/> over the node lifecycle: the node key must belong to the Noise
/// session's machine key; what a client reports is stored on its node (Hostinfo only when it
/// changed, the disco key) and its endpoints go to the network maps of every host, never to the journal.
/// </summary>
public sealed partial class ActorMapNodeDirectory(
    INodeService nodes,
    INetworkMapReports map,
    TimeProvider time,
    ILogger<ActorMapNodeDirectory> log) : IMapNodeDirectory
{
    public async Task<long?> FindNodeAsync(string machineKey, string nodeKey, CancellationToken cancellationToken)
    {
        if (!MachineKey.TryParse(machineKey, out var machine) || !NodeKey.TryParse(nodeKey, out var key))
        {
            return null;
        }

        return await nodes.FindByNodeKeyAsync(key, cancellationToken) is { } entry && entry.MachineKey == machine
            ? (long)entry.Id.Value
            : null;
    }

    public async Task ReportAsync(long nodeId, HostinfoSummary? hostinfo, ImmutableArray<string> endpoints, string? discoKey, CancellationToken cancellationToken)
    {
        var report = new ClientReport(
            hostinfo is null ? null : Encoding.UTF8.GetString(hostinfo.Raw.Span),
            hostinfo?.Hostname ?? "",
            hostinfo?.RoutableIPs ?? [],
            discoKey);
        var stored = await nodes.ReportClientStateAsync(new NodeId((ulong)nodeId), report, time.GetUtcNow(), cancellationToken);
        if (!stored.Result.Succeeded)
        {
            // The client cannot act on an error here (lite updates are answered 200 regardless), so
            // the bad report is dropped, logged, and its endpoints still reach the map.
            LogReportRefused(log, nodeId, stored.Result.Message);
        }

        var validDisco = NodeInputs.IsDiscoKey(discoKey) ? discoKey : null;
        await map.ReportEndpointsAsync(nodeId, endpoints, validDisco, hostinfo?.PreferredDerp ?? 0, cancellationToken);
    }

    [LoggerMessage(EventId = 2110, Level = LogLevel.Warning, Message = "map request of node {NodeId} not stored: {Reason}")]
    private static partial void LogReportRefused(ILogger logger, long nodeId, string reason);
}
