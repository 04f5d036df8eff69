using Xunit;

namespace Headscale.Api.Tests.Management;

/// <summary>One server with the fake facades per test class; tests in a class run one at a time.</summary>
public sealed class ManagementServerFixture : IAsyncLifetime
{
    private ManagementTestServer? _server;

    internal FakeManagement Facades { get; } = new();

    internal ManagementTestServer Server => _server ?? throw new InvalidOperationException("fixture not started");

    /// <summary>A valid 0.27-form key present in the server's store.</summary>
    internal string Key { get; private set; } = "";

    public async ValueTask InitializeAsync()
    {
        _server = await ManagementTestServer.StartAsync(Facades, TestContext.Current.CancellationToken);
        Key = _server.AddKey();
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }
}
