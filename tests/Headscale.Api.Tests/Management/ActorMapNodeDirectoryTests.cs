using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using Headscale.Actors.NetworkMap;
using Headscale.Actors.Nodes;
using Headscale.Protocol.Tailcfg;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Headscale.Api.Tests.Management;

/// <summary>What <c>/machine/map</c> asks of the domain: node lookup bound to the machine key, and storing what clients report.</summary>
public sealed class ActorMapNodeDirectoryTests(ActorBackendHost host) : IClassFixture<ActorBackendHost>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_node_key_is_found_only_over_its_own_machine_key()
    {
        var (_, node) = await host.NodeAsync("find");
        var otherMachine = MachineKey.FromBytes(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

        Assert.Equal((long)node.Id.Value, await host.MapDirectory.FindNodeAsync(node.MachineKey.Value, node.NodeKey.Value, Ct));
        Assert.Null(await host.MapDirectory.FindNodeAsync(otherMachine.Value, node.NodeKey.Value, Ct));
        Assert.Null(await host.MapDirectory.FindNodeAsync(node.MachineKey.Value, "nodekey:" + new string('0', 63) + "1", Ct));
        Assert.Null(await host.MapDirectory.FindNodeAsync("garbage", node.NodeKey.Value, Ct));
    }

    [Fact]
    public async Task A_report_stores_hostinfo_and_disco_key_and_sends_endpoints_to_the_map()
    {
        var (_, node) = await host.NodeAsync("report");
        await host.WaitUntilMappedAsync(node.Id);
        const string json = """{"Hostname":"reporter","OS":"linux","RoutableIPs":["10.8.0.0/24"],"NetInfo":{"PreferredDERP":7}}""";
        Assert.True(HostinfoSummary.TryParse(JsonDocument.Parse(json).RootElement, out var hostinfo, out _));
        var disco = "discokey:" + new string('d', 64);

        await host.MapDirectory.ReportAsync((long)node.Id.Value, hostinfo, ["198.51.100.7:41641"], disco, Ct);

        var stored = (await host.Services.GetRequiredService<INodeService>().GetAsync(node.Id, Ct))!;
        Assert.Equal("reporter", stored.Hostname);
        Assert.Equal(["10.8.0.0/24"], stored.AnnouncedRoutes);
        Assert.Equal(disco, stored.DiscoKey);
        Assert.Equal("reporter", JsonDocument.Parse(stored.Hostinfo).RootElement.GetProperty("Hostname").GetString());

        // The endpoints are in the map only: a session of this node sees them in its own full map.
        var map = await host.Services.GetRequiredService<IRequiredActor<NetworkMapRegistryKey>>().GetAsync(Ct);
        var full = await map.Ask<MapResponse>(session => new NetworkMapCommands.Subscribe((long)node.Id.Value, session), TimeSpan.FromSeconds(10), Ct);
        Assert.Equal(["198.51.100.7:41641"], full.Node!.Endpoints);
        Assert.Equal(7, full.Node.HomeDerp);
    }

    [Fact]
    public async Task A_report_with_an_invalid_route_stores_nothing_but_still_updates_endpoints()
    {
        var (_, node) = await host.NodeAsync("bad-report");
        const string json = """{"Hostname":"changed","RoutableIPs":["not-a-prefix"]}""";
        Assert.True(HostinfoSummary.TryParse(JsonDocument.Parse(json).RootElement, out var hostinfo, out _));

        await host.MapDirectory.ReportAsync((long)node.Id.Value, hostinfo, [], null, Ct);

        var stored = (await host.Services.GetRequiredService<INodeService>().GetAsync(node.Id, Ct))!;
        Assert.Equal(node.Hostname, stored.Hostname);
        Assert.Equal("", stored.Hostinfo);
    }
}
