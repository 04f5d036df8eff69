namespace Headscale.IntegrationTests.Support;

/// <summary>One PostgreSQL server shared by a test class; each test creates its own database.</summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    private PostgresServer? _server;

    public PostgresServer Server => _server ?? throw new InvalidOperationException("PostgreSQL is not started");

    public async ValueTask InitializeAsync() => _server = await PostgresServer.StartNewAsync();

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
