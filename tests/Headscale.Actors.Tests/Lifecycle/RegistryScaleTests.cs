using Akka.Actor;
using Akka.Hosting;
using Headscale.Actors.Nodes;
using Headscale.Actors.Nodes.Messages;
using Headscale.Actors.Users;
using Microsoft.Extensions.DependencyInjection;
using static Headscale.Actors.Nodes.Messages.NodeRegistryCommands;

namespace Headscale.Actors.Tests.Lifecycle;

/// <summary>
/// The node registry under a registration storm, with random allocation, on a real (SQLite) journal.
/// It runs alone so that its load does not slow the other classes' hosts.
/// </summary>
[Collection(nameof(RegistryScaleTests))]
public sealed class RegistryScaleTests(LifecycleHost host) : IClassFixture<LifecycleHost>
{
    [Fact]
    public async Task Ten_thousand_reservations_get_unique_addresses_and_names()
    {
        const int count = 10_000;
        var ct = TestContext.Current.CancellationToken;
        var registry = await host.Services.GetRequiredService<IRequiredActor<NodeRegistrySingleton>>().GetAsync(ct);
        var now = DateTimeOffset.UtcNow;

        // Until the proxy has found the singleton it buffers at most 1000 messages; find it first.
        await registry.Ask<NodeRegistryQueries.NodeIndexList>(new NodeRegistryQueries.ListIndex(new NodeId(0), null), TimeSpan.FromSeconds(30), ct);

        // Host names repeat (100 distinct), so the collision suffixes are exercised too.
        var results = await Task.WhenAll(Enumerable.Range(1, count).Select(i => registry.Ask<NodeRegistryResult>(
            new ReserveNode(new NodeId(1_000_000 + (ulong)i), TestKeys.Machine(i), TestKeys.Node(i), new UserId(1), $"Host {i % 100}", false, now, Cause.System("scale test")),
            TimeSpan.FromSeconds(60),
            ct)));

        Assert.All(results, r => Assert.Equal(ResultCode.Ok, r.Result.Code));
        var entries = results.Select(r => r.Entry!).ToList();
        Assert.Equal(count, entries.Select(e => e.IPv4).Distinct().Count());
        Assert.Equal(count, entries.Select(e => e.IPv6).Distinct().Count());
        Assert.Equal(count, entries.Select(e => e.GivenName).Distinct().Count());
        Assert.Contains(entries, e => e.GivenName == "host-7-99");

        var listed = await registry.Ask<NodeRegistryQueries.NodeIndexList>(new NodeRegistryQueries.ListIndex(null, new UserId(1)), TimeSpan.FromSeconds(10), ct);
        Assert.Equal(count, listed.Entries.Length);
    }
}

[CollectionDefinition(nameof(RegistryScaleTests), DisableParallelization = true)]
public sealed class RegistryScaleCollection;
