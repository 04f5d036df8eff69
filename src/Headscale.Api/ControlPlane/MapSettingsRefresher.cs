using Akka.Hosting;
using Headscale.Actors.NetworkMap;
using Headscale.Derp.Map;
using Microsoft.Extensions.Hosting;

namespace Headscale.Api.ControlPlane;

/// <summary>
/// Tells the host's network map when what it sends besides the nodes has changed (the extra DNS
/// records file was edited, the DERP map was refreshed), so connected clients get the new DNS
/// config or DERP map as a delta instead of only on their next full map.
/// </summary>
public sealed class MapSettingsRefresher(ActorRegistry registry, ExtraRecordsWatcher? extraRecords = null, DerpMapProvider? derpMap = null)
    : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (extraRecords is not null)
        {
            extraRecords.Changed += Refresh;
        }

        if (derpMap is not null)
        {
            derpMap.Changed += OnDerpMap;
        }

        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        if (extraRecords is not null)
        {
            extraRecords.Changed -= Refresh;
        }

        if (derpMap is not null)
        {
            derpMap.Changed -= OnDerpMap;
        }

        return Task.CompletedTask;
    }

    private void OnDerpMap(DerpMap _) => Refresh();

    private void Refresh()
    {
        if (registry.TryGet<NetworkMapRegistryKey>(out var map))
        {
            map.Tell(NetworkMapCommands.RefreshSettings.Instance, Akka.Actor.ActorRefs.NoSender);
        }
    }
}
