using Headscale.Actors.Hosting;
using Headscale.Actors.Persistence;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Headscale.Actors.Tests;

/// <summary>The production actor wiring on a SQLite file, started and stopped as the server does.</summary>
internal sealed class ActorHost : IAsyncDisposable
{
    private readonly IHost _host;

    private ActorHost(IHost host) => _host = host;

    public IServiceProvider Services => _host.Services;

    public static async Task<ActorHost> StartAsync(string sqlitePath, Action<IServiceCollection>? configure = null)
    {
        var host = new HostBuilder()
            .ConfigureServices(services =>
            {
                configure?.Invoke(services);
                services.AddHeadscaleActors(new HeadscaleActorsOptions
                {
                    Database = new DatabaseSettings { Kind = DatabaseKind.Sqlite, SqlitePath = sqlitePath },
                });
            })
            .Build();
        await host.Services.GetRequiredService<JournalDatabase>().PrepareAsync(TestContext.Current.CancellationToken);
        await host.StartAsync(TestContext.Current.CancellationToken);
        return new ActorHost(host);
    }

    public T Get<T>()
        where T : notnull => _host.Services.GetRequiredService<T>();

    public async ValueTask DisposeAsync()
    {
        await _host.StopAsync(CancellationToken.None);
        _host.Dispose();
    }
}
