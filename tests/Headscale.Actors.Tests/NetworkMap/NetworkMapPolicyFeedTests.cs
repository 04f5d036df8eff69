using Headscale.Actors.Policy;
using Headscale.Actors.Tests.Lifecycle;
using Microsoft.Extensions.DependencyInjection;

namespace Headscale.Actors.Tests.NetworkMap;

/// <summary>A policy stored in database mode reaches the network map (its own host: the policy is tailnet-wide).</summary>
public sealed class NetworkMapPolicyFeedTests(LifecycleHost host) : IClassFixture<LifecycleHost>
{
    /// <summary>Allows only traffic between addresses no node has, so no node sees another.</summary>
    private const string Isolating = """{"hosts": {"nowhere": "192.0.2.1/32"}, "acls": [{"action": "accept", "src": ["nowhere"], "dst": ["nowhere:*"]}]}""";

    [Fact]
    public async Task A_policy_set_in_database_mode_changes_who_sees_whom()
    {
        var ct = TestContext.Current.CancellationToken;
        var user = await host.CreateUserAsync("policy-feed");
        var key = await host.CreateKeyAsync(user.Id, reusable: true);
        var a = (await host.RegisterAsync(TestKeys.RandomMachine(), LifecycleHost.Request(TestKeys.RandomNode(), key, "pa"))).Node!;
        var b = (await host.RegisterAsync(TestKeys.RandomMachine(), LifecycleHost.Request(TestKeys.RandomNode(), key, "pb"))).Node!;
        await MapProbe.WaitUntilMappedAsync(host.Services, a.Id, b.Id);
        await using var viewer = await MapProbe.ConnectAsync(host.Services, a.Id);
        var full = await viewer.NextMatchingAsync(m => m.TryGetProperty("Peers", out _));
        Assert.True(MapProbe.ListsPeer(full, "Peers", b.Id));

        var store = host.Services.GetRequiredService<IPolicyStore>();
        Assert.Equal(PolicyCommands.PolicyResultCode.Ok, (await store.SetAsync(Isolating, Cause.Cli("policy set"), ct)).Code);
        await viewer.NextMatchingAsync(m => MapProbe.ListsPeer(m, "PeersRemoved", b.Id));

        var open = $$"""{"acls": [{"action": "accept", "src": ["{{user.Name}}@"], "dst": ["{{user.Name}}@:*"]}]}""";
        Assert.Equal(PolicyCommands.PolicyResultCode.Ok, (await store.SetAsync(open, Cause.Cli("policy set"), ct)).Code);
        await viewer.NextMatchingAsync(m => MapProbe.ListsPeer(m, "PeersChanged", b.Id));
    }
}
