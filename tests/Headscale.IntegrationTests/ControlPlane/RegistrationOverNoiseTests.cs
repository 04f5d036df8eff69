using System.Net;
using Headscale.Management.V1;
using Headscale.Protocol.Client;

namespace Headscale.IntegrationTests.ControlPlane;

/// <summary>
/// Registration flows driven through the real server exactly as a Tailscale client drives them: <c>/key</c>, the ts2021
/// upgrade, the Noise handshake and <c>POST /machine/register</c> over HTTP/2.
/// </summary>
public sealed class RegistrationOverNoiseTests(ControlServer server) : IClassFixture<ControlServer>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_single_use_key_registers_one_machine_and_refuses_the_next()
    {
        var user = await server.CreateUserAsync();
        var key = await server.CreateKeyAsync(user);
        using var first = server.NewNode();
        using var second = server.NewNode();

        var registered = await first.RegisterAsync(key, Ct);
        var refused = await second.RegisterAsync(key, Ct);

        Assert.True(registered.Succeeded, registered.RawBody);
        Assert.Equal(user.Name, registered.LoginName);
        Assert.Equal(HttpStatusCode.OK, refused.Status);
        Assert.Equal("authkey already used", refused.Error);
        var node = await server.FindNodeAsync(first.NodeKey);
        Assert.NotNull(node);
        Assert.Equal(first.MachineKey.PublicKey.ToString(), node.MachineKey);
        Assert.Equal(first.Hostname, node.Name);
        Assert.Equal(2, node.IpAddresses.Count);
        Assert.Null(await server.FindNodeAsync(second.NodeKey));
    }

    [Fact]
    public async Task A_reusable_key_registers_many_machines()
    {
        var user = await server.CreateUserAsync();
        var reusable = await server.CreateKeyAsync(user, reusable: true);
        using var a = server.NewNode();
        using var b = server.NewNode();
        using var c = server.NewNode();

        Assert.True((await a.RegisterAsync(reusable, Ct)).Succeeded);
        Assert.True((await b.RegisterAsync(reusable, Ct)).Succeeded);
        Assert.True((await c.RegisterAsync(reusable, Ct)).Succeeded);

        var nodes = (await server.Admin.ListNodesAsync(new ListNodesRequest { User = user.Name }, cancellationToken: Ct)).Nodes;
        Assert.Equal(
            new[] { a.NodeKey, b.NodeKey, c.NodeKey }.Order(StringComparer.Ordinal),
            nodes.Select(n => n.NodeKey).Order(StringComparer.Ordinal));
        Assert.Equal(3, nodes.SelectMany(n => n.IpAddresses).Distinct().Count() / 2);
        Assert.All(nodes, n => Assert.True(n.PreAuthKey is { Reusable: true, Ephemeral: false }, $"node {n.Id} shows its key as {n.PreAuthKey}"));
    }

    [Fact]
    public async Task Expired_unknown_and_malformed_keys_are_refused_with_tailscales_texts_and_register_nothing()
    {
        var user = await server.CreateUserAsync();
        var expired = await server.CreateKeyAsync(user, validFor: TimeSpan.FromMilliseconds(1));
        using var node = server.NewNode();
        var before = (await server.Admin.ListNodesAsync(new ListNodesRequest(), cancellationToken: Ct)).Nodes.Count;

        Assert.Equal("authkey expired", (await node.RegisterAsync(expired, Ct)).Error);
        Assert.Equal("invalid pre auth key", (await node.RegisterAsync("hskey-auth-unknown-000000000000", Ct)).Error);
        Assert.Equal("invalid pre auth key", (await node.RegisterAsync("nonsense", Ct)).Error);

        Assert.Equal(before, (await server.Admin.ListNodesAsync(new ListNodesRequest(), cancellationToken: Ct)).Nodes.Count);
    }

    [Fact]
    public async Task Tagged_key_registers_a_node_owned_by_its_tags()
    {
        var user = await server.CreateUserAsync();
        var key = await server.CreateKeyAsync(user, tags: ["tag:server"]);
        using var node = server.NewNode();

        var result = await node.RegisterAsync(key, Ct);

        Assert.True(result.Succeeded, result.RawBody);
        var stored = await server.FindNodeAsync(node.NodeKey);
        Assert.Contains("tag:server", stored!.Tags);
    }

    [Fact]
    public async Task Interactive_login_waits_in_the_followup_until_an_admin_registers_the_node()
    {
        var user = await server.CreateUserAsync();
        using var node = server.NewNode();

        var first = await node.RegisterAsync(authKey: null, Ct);
        Assert.StartsWith(server.Url + "register/", first.AuthUrl, StringComparison.Ordinal);
        Assert.False(first.MachineAuthorized);
        var registrationId = first.AuthUrl[(first.AuthUrl.LastIndexOf('/') + 1)..];

        var followUp = node.FollowUpAsync(first.AuthUrl, Ct);
        Assert.False(followUp.IsCompleted);
        var registered = await server.Admin.RegisterNodeAsync(new RegisterNodeRequest { User = user.Name, Key = registrationId }, cancellationToken: Ct);
        var approved = await followUp.WaitAsync(TimeSpan.FromSeconds(30), Ct);

        Assert.True(approved.Succeeded, approved.RawBody);
        Assert.Equal(user.Name, approved.LoginName);
        Assert.Equal(node.NodeKey, registered.Node.NodeKey);
        Assert.Equal(node.MachineKey.PublicKey.ToString(), registered.Node.MachineKey);
    }

    [Fact]
    public async Task Key_rotation_keeps_the_node_and_replaces_its_node_key()
    {
        var user = await server.CreateUserAsync();
        var key = await server.CreateKeyAsync(user, reusable: true);
        using var node = server.NewNode();
        Assert.True((await node.RegisterAsync(key, Ct)).Succeeded);
        var oldKey = node.NodeKey;
        var before = await server.FindNodeAsync(oldKey);

        var rotated = await node.RotateNodeKeyAsync(key, Ct);

        Assert.True(rotated.Succeeded, rotated.RawBody);
        Assert.NotEqual(oldKey, node.NodeKey);
        var after = await server.FindNodeAsync(node.NodeKey);
        Assert.Equal(before!.Id, after!.Id);
        Assert.Equal(before.IpAddresses, after.IpAddresses);
        Assert.Null(await server.FindNodeAsync(oldKey));
    }

    [Fact]
    public async Task Logout_expires_the_node_and_a_login_of_the_same_user_brings_it_back()
    {
        var user = await server.CreateUserAsync();
        var key = await server.CreateKeyAsync(user, reusable: true);
        using var node = server.NewNode();
        Assert.True((await node.RegisterAsync(key, Ct)).Succeeded);
        var id = (await server.FindNodeAsync(node.NodeKey))!.Id;

        var logout = await node.LogoutAsync(Ct);
        Assert.True(logout.NodeKeyExpired, logout.RawBody);
        var expired = await server.FindNodeAsync(node.NodeKey);
        Assert.True(expired!.Expiry.ToDateTimeOffset() <= DateTimeOffset.UtcNow);
        Assert.True((await node.RefreshAsync(Ct)).NodeKeyExpired);

        var relogin = await node.RotateNodeKeyAsync(key, Ct);
        Assert.True(relogin.Succeeded, relogin.RawBody);
        var back = await server.FindNodeAsync(node.NodeKey);
        Assert.Equal(id, back!.Id);
        Assert.True(back.Expiry is null || back.Expiry.ToDateTimeOffset() > DateTimeOffset.UtcNow);
    }

    [Fact]
    public async Task A_node_expired_by_an_admin_learns_it_at_its_next_register()
    {
        var user = await server.CreateUserAsync();
        using var node = await server.RegisteredNodeAsync(user);
        var id = (await server.FindNodeAsync(node.NodeKey))!.Id;
        Assert.False((await node.RefreshAsync(Ct)).NodeKeyExpired);

        await server.Admin.ExpireNodeAsync(new ExpireNodeRequest { NodeId = id }, cancellationToken: Ct);

        var refreshed = await node.RefreshAsync(Ct);
        Assert.True(refreshed.NodeKeyExpired, refreshed.RawBody);
        var stored = await server.FindNodeAsync(node.NodeKey);
        Assert.True(stored!.Expiry.ToDateTimeOffset() <= DateTimeOffset.UtcNow);
    }

    [Fact]
    public async Task A_machine_logging_in_as_another_user_gets_a_new_node()
    {
        var alice = await server.CreateUserAsync("alice");
        var bob = await server.CreateUserAsync("bob");
        using var node = server.NewNode();
        Assert.True((await node.RegisterAsync(await server.CreateKeyAsync(alice), Ct)).Succeeded);
        var first = (await server.FindNodeAsync(node.NodeKey))!;

        var asBob = await node.RotateNodeKeyAsync(await server.CreateKeyAsync(bob), Ct);

        Assert.True(asBob.Succeeded, asBob.RawBody);
        Assert.Equal(bob.Name, asBob.LoginName);
        var second = (await server.FindNodeAsync(node.NodeKey))!;
        Assert.NotEqual(first.Id, second.Id);
        Assert.Equal(bob.Name, second.User.Name);
    }

    [Fact]
    public async Task A_hundred_machines_racing_one_single_use_key_register_exactly_once()
    {
        var user = await server.CreateUserAsync();
        var key = await server.CreateKeyAsync(user);
        var nodes = Enumerable.Range(0, 100).Select(_ => server.NewNode()).ToArray();
        try
        {
            var results = await Task.WhenAll(nodes.Select(n => n.RegisterAsync(key, Ct)));

            var unexpected = results.Where(r => !r.Succeeded && r.Error != "authkey already used").Select(r => $"{r.Status}: {r.RawBody}").ToList();
            Assert.True(unexpected.Count == 0, "unexpected answers: " + string.Join(" | ", unexpected));
            Assert.Single(results, r => r.Succeeded);
            Assert.Equal(99, results.Count(r => r.Error == "authkey already used"));
            var owned = (await server.Admin.ListNodesAsync(new ListNodesRequest { User = user.Name }, cancellationToken: Ct)).Nodes;
            Assert.Single(owned);
        }
        finally
        {
            foreach (var node in nodes)
            {
                node.Dispose();
            }
        }
    }

    [Theory]
    [InlineData("{not json", HttpStatusCode.BadRequest)]
    [InlineData("[]", HttpStatusCode.BadRequest)]
    public async Task Bodies_that_are_not_register_requests_are_refused_and_the_connection_keeps_working(string body, HttpStatusCode status)
    {
        var user = await server.CreateUserAsync();
        using var node = server.NewNode();

        var (code, text) = await node.PostRawAsync("/machine/register", System.Text.Encoding.UTF8.GetBytes(body), Ct);

        Assert.Equal(status, code);
        Assert.Contains("RegisterRequest", text, StringComparison.Ordinal);
        Assert.True((await node.RegisterAsync(await server.CreateKeyAsync(user), Ct)).Succeeded);
        Assert.Equal(1, node.Transport.ConnectionCount);
    }

    [Fact]
    public async Task A_node_key_presented_by_another_machine_is_refused()
    {
        var user = await server.CreateUserAsync();
        var key = await server.CreateKeyAsync(user, reusable: true);
        using var owner = server.NewNode();
        Assert.True((await owner.RegisterAsync(key, Ct)).Succeeded);

        using var thief = server.NewNode();
        var body = System.Text.Encoding.UTF8.GetBytes(
            $$"""{"Version":125,"NodeKey":"{{owner.NodeKey}}","Expiry":"1970-01-01T00:02:03Z","Hostinfo":{"Hostname":"x"} }""");
        var (code, text) = await thief.PostRawAsync("/machine/register", body, Ct);

        Assert.Contains("node key belongs to another machine", text, StringComparison.Ordinal);
        var stored = await server.FindNodeAsync(owner.NodeKey);
        Assert.True(stored!.Expiry is null || stored.Expiry.ToDateTimeOffset() > DateTimeOffset.UtcNow, $"{code}: the owner's node must not be expired");
    }
}
