using Grpc.Core;
using Headscale.Api.Management;
using Headscale.Management.V1;
using Xunit;

namespace Headscale.Api.Tests.Management;

/// <summary>The client the CLI uses: unix socket without key, remote address with key.</summary>
public sealed class ManagementClientConnectionTests(ManagementServerFixture fixture) : IClassFixture<ManagementServerFixture>
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Without_address_it_uses_the_unix_socket_and_needs_no_key()
    {
        using var connection = ManagementClientConnection.Open(new ManagementClientOptions(null, null, false, fixture.Server.SocketPath, Timeout));

        var users = await connection.Client.ListUsersAsync(new ListUsersRequest(), cancellationToken: Ct);

        Assert.Equal(["alice", "bob"], users.Users.Select(u => u.Name));
    }

    [Fact]
    public async Task With_address_it_sends_the_api_key()
    {
        using var good = ManagementClientConnection.Open(new ManagementClientOptions(fixture.Server.GrpcBase.ToString(), fixture.Key, false, "", Timeout));
        using var bad = ManagementClientConnection.Open(new ManagementClientOptions(
            fixture.Server.GrpcBase.ToString(), "abcdefg." + new string('x', 32), false, "", Timeout));

        var nodes = await good.Client.ListNodesAsync(new ListNodesRequest(), cancellationToken: Ct);
        var refused = await Assert.ThrowsAsync<RpcException>(async () => await bad.Client.ListNodesAsync(new ListNodesRequest(), cancellationToken: Ct));

        Assert.Equal(2, nodes.Nodes.Count);
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
    }

    [Theory]
    [InlineData("127.0.0.1:50443", null, "/run/hs.sock", 5, "cli.api_key is required when cli.address is set")]
    [InlineData(null, null, "", 5, "unix_socket is required when cli.address is not set")]
    [InlineData("ftp://host:1", "k", "", 5, "cli.address must be host:port or an http(s) URL, got 'ftp://host:1'")]
    [InlineData(null, null, "/run/hs.sock", 0, "cli.timeout must be positive, got 00:00:00")]
    public void Bad_options_are_refused_naming_the_setting(string? address, string? apiKey, string socket, int timeoutSeconds, string message)
    {
        var error = Assert.Throws<ArgumentException>(() =>
            ManagementClientConnection.Open(new ManagementClientOptions(address, apiKey, false, socket, TimeSpan.FromSeconds(timeoutSeconds))));

        Assert.StartsWith(message, error.Message, StringComparison.Ordinal);
    }
}
