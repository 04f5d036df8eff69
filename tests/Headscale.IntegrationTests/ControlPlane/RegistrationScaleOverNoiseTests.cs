using Headscale.Management.V1;
using Headscale.Protocol.Client;

namespace Headscale.IntegrationTests.ControlPlane;

/// <summary>Random address allocation, as a large tailnet would configure it.</summary>
public sealed class RandomAllocationServer : ControlServer
{
    protected override string ExtraConfig => "prefixes:\n  allocation: random\n";
}

/// <summary>Ten thousand machines register through the real server, each over its own ts2021 connection.</summary>
[Collection(nameof(RegistrationScaleOverNoiseTests))]
public sealed class RegistrationScaleOverNoiseTests(RandomAllocationServer server) : IClassFixture<RandomAllocationServer>
{
    private const int Machines = 10_000;
    private const int InFlight = 32;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Ten_thousand_registrations_get_unique_addresses_and_names()
    {
        var user = await server.CreateUserAsync("scale");
        var key = await server.CreateKeyAsync(user, reusable: true);
        using var gate = new SemaphoreSlim(InFlight);

        // Host names repeat (100 distinct), so the collision suffixes are exercised too.
        var registrations = Enumerable.Range(0, Machines).Select(async i =>
        {
            await gate.WaitAsync(Ct);
            try
            {
                using var node = server.NewNode($"Host {i % 100}");
                var result = await node.RegisterAsync(key, Ct);
                return result.Succeeded ? null : result.RawBody;
            }
            finally
            {
                gate.Release();
            }
        });
        var failures = (await Task.WhenAll(registrations)).Where(f => f is not null).ToList();

        Assert.Empty(failures);
        var nodes = (await server.Admin.ListNodesAsync(new ListNodesRequest { User = user.Name }, cancellationToken: Ct)).Nodes;
        Assert.Equal(Machines, nodes.Count);
        Assert.Equal(Machines * 2, nodes.SelectMany(n => n.IpAddresses).Distinct().Count());
        Assert.Equal(Machines, nodes.Select(n => n.GivenName).Distinct().Count());
        Assert.Contains(nodes, n => n.GivenName == "host-7-99");
    }
}

[CollectionDefinition(nameof(RegistrationScaleOverNoiseTests), DisableParallelization = true)]
public sealed class RegistrationScaleOverNoiseCollection;
