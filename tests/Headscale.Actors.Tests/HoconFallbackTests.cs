using Akka.Actor;
using Akka.Hosting;
using Headscale.Actors.Hosting;
using Headscale.Actors.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Headscale.Actors.Tests;

/// <summary>Boots the production wiring and checks that each hocon/headscale.conf key took effect.</summary>
public sealed class HoconFallbackTests
{
    [Fact]
    public async Task Hocon_fallbacks_are_loaded_into_the_running_system()
    {
        using var directory = new TempDirectory();
        using var host = new HostBuilder()
            .ConfigureServices(services => services.AddHeadscaleActors(new HeadscaleActorsOptions
            {
                Database = new DatabaseSettings { Kind = DatabaseKind.Sqlite, SqlitePath = directory.File("journal.db") },
            }))
            .Build();
        await host.Services.GetRequiredService<JournalDatabase>().PrepareAsync(TestContext.Current.CancellationToken);
        await host.StartAsync(TestContext.Current.CancellationToken);

        var config = host.Services.GetRequiredService<ActorSystem>().Settings.Config;

        Assert.False(config.GetBoolean("akka.coordinated-shutdown.exit-clr"));
        Assert.False(config.GetBoolean("akka.coordinated-shutdown.run-by-clr-shutdown-hook"));
        Assert.True(config.GetBoolean("akka.cluster.run-coordinated-shutdown-when-down"));
        Assert.False(config.GetBoolean("akka.cluster.singleton-proxy.log-singleton-identification-failure"));
        Assert.Equal(TimeSpan.FromMinutes(10), config.GetTimeSpan("akka.cluster.sharding.passivate-idle-entity-after"));
        Assert.Equal(200, config.GetInt("akka.persistence.max-concurrent-recoveries"));
        Assert.Equal(TimeSpan.FromSeconds(30), config.GetTimeSpan("akka.persistence.journal.sql.circuit-breaker.call-timeout"));
        Assert.Equal(TimeSpan.FromSeconds(10), config.GetTimeSpan("akka.persistence.journal.sql.circuit-breaker.reset-timeout"));

        await host.StopAsync(TestContext.Current.CancellationToken);
    }
}
