using System.Collections.Immutable;
using Akka.Actor;
using Akka.Hosting;
using Headscale.Actors.Registration;
using Headscale.Actors.Serialization;

namespace Headscale.Actors.NetworkMap;

/// <summary>Endpoint reports shared between hosts: every host's map needs a node's endpoints, not only the one holding its stream.</summary>
public static class EndpointNotifications
{
    /// <summary>DistributedPubSub topic every host's network map feed subscribes to (decision 0007).</summary>
    public const string Topic = "node-endpoints";

    /// <summary>
    /// A node's endpoints, disco key ("" when not reported) and home DERP (0 when not reported) as a client
    /// reported them to the host at <paramref name="Origin"/> (its actor system address), which applied them already.
    /// </summary>
    public sealed record EndpointsReported(long NodeId, ImmutableArray<string> Endpoints, string DiscoKey, int HomeDerp, string Origin) : IHeadscaleSerializable;

    /// <summary>The address that identifies this host as the origin of a report.</summary>
    public static string OriginOf(ActorSystem system) => ((ExtendedActorSystem)system).Provider.DefaultAddress.ToString();
}

/// <summary>Where <c>/machine/map</c> reports what is never persisted: endpoints, disco key and home DERP of a node.</summary>
public interface INetworkMapReports
{
    /// <summary>Applies the report to this host's map at once and shares it with every other host's map.</summary>
    Task ReportEndpointsAsync(long nodeId, ImmutableArray<string> endpoints, string? discoKey, int homeDerp, CancellationToken cancellationToken);
}

internal sealed class NetworkMapReports(IRequiredActor<NetworkMapRegistryKey> map, ActorSystem system) : INetworkMapReports
{
    public async Task ReportEndpointsAsync(long nodeId, ImmutableArray<string> endpoints, string? discoKey, int homeDerp, CancellationToken cancellationToken)
    {
        var list = endpoints.IsDefault ? [] : endpoints;
        (await map.GetAsync(cancellationToken)).Tell(new NetworkMapCommands.EndpointsUpdated(nodeId, list, discoKey, homeDerp));
        ClusterNotifications.Publish(system, EndpointNotifications.Topic,
            new EndpointNotifications.EndpointsReported(nodeId, list, discoKey ?? "", homeDerp, EndpointNotifications.OriginOf(system)));
    }
}
