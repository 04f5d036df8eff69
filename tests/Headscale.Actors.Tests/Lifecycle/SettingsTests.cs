using System.Net;
using Headscale.Actors.Addressing;
using Headscale.Actors.Registration;

namespace Headscale.Actors.Tests.Lifecycle;

/// <summary>Configured behaviour that needs a host of its own: a tiny prefix and a default node expiry.</summary>
public sealed class SettingsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Exhausted_prefixes_refuse_the_registration_and_hand_the_single_use_key_back()
    {
        await using var host = LifecycleHost.With(LifecycleHost.Settings with
        {
            // A /30 has two usable addresses; only IPv4 is configured.
            Addressing = new AddressingSettings(IPNetwork.Parse("100.64.0.0/30"), null, AllocationStrategy.Sequential),
            NodeExpiry = TimeSpan.FromHours(1),
        });
        await host.InitializeAsync();
        var user = await host.CreateUserAsync("tiny");
        var reusable = await host.CreateKeyAsync(user.Id, reusable: true);
        var single = await host.CreateKeyAsync(user.Id);

        var before = DateTimeOffset.UtcNow;
        var a = await host.RegisterAsync(TestKeys.RandomMachine(), LifecycleHost.Request(TestKeys.RandomNode(), reusable));
        var b = await host.RegisterAsync(TestKeys.RandomMachine(), LifecycleHost.Request(TestKeys.RandomNode(), reusable));
        var full = await host.RegisterAsync(TestKeys.RandomMachine(), LifecycleHost.Request(TestKeys.RandomNode(), single));

        Assert.Equal(["100.64.0.1", "100.64.0.2"], new[] { a.Node!.IPv4, b.Node!.IPv4 }.Order());
        Assert.Equal("", a.Node.IPv6);
        Assert.Equal(Errors.AddressesExhausted, full.Error);
        Assert.Equal(2, (await host.Nodes.ListAsync(user.Id, Ct)).Length);
        Assert.DoesNotContain(await host.Keys.ListAsync(user.Id, Ct), k => k.Used);

        // node.expiry applies to nodes that ask for no expiry of their own.
        Assert.InRange(a.Node.Expiry!.Value, before.AddHours(1), DateTimeOffset.UtcNow.AddHours(1));

        // Deleting a node frees its address for the next registration.
        await host.Nodes.DeleteAsync(a.Node.Id, DateTimeOffset.UtcNow, Cause.Cli("nodes delete"), Ct);
        await NodeLifecycleTests.Eventually(async () =>
            (await host.RegisterAsync(TestKeys.RandomMachine(), LifecycleHost.Request(TestKeys.RandomNode(), single))).Error == "", TimeSpan.FromSeconds(10));
    }

    [Theory]
    [InlineData(120, 600)]
    [InlineData(299, 600)]
    [InlineData(1800, 3600)]
    public void A_node_entity_outlives_its_ephemeral_cleanup_timer(int ephemeralSeconds, int idleSeconds)
    {
        var idle = NodeLifecycleHostingExtensions.NodeIdleTimeout(TimeSpan.FromSeconds(ephemeralSeconds));

        Assert.Equal(TimeSpan.FromSeconds(idleSeconds), idle);
        Assert.True(idle > TimeSpan.FromSeconds(ephemeralSeconds));
    }
}
