using Headscale.Actors.Nodes;
using Headscale.Actors.Nodes.Messages;
using Headscale.Actors.Registration;

namespace Headscale.Actors.Tests.Lifecycle;

/// <summary>Interactive registration, key rotation, logout and re-login, expiry and ephemeral cleanup.</summary>
public sealed class NodeLifecycleTests(LifecycleHost host) : IClassFixture<LifecycleHost>
{
    /// <summary>Logout instant every Tailscale client sends: time.Unix(123, 0), here with a +01:00 offset.</summary>
    private static readonly DateTimeOffset LogoutInstant = new(1970, 1, 1, 1, 2, 3, TimeSpan.FromHours(1));

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Interactive_registration_waits_for_approval_and_releases_the_followup()
    {
        var user = await host.CreateUserAsync("interactive");
        var machine = TestKeys.RandomMachine();
        var request = LifecycleHost.Request(TestKeys.RandomNode(), hostname: "Desk Top");

        var first = await host.RegisterAsync(machine, request);
        Assert.StartsWith(LifecycleHost.ServerUrl + "register/", first.AuthUrl);
        Assert.False(first.MachineAuthorized);
        var id = first.AuthUrl[(first.AuthUrl.LastIndexOf('/') + 1)..];
        Assert.NotNull(await host.Nodes.GetPendingAsync(id, Ct));

        var followup = host.RegisterAsync(machine, request with { Followup = first.AuthUrl });
        var approved = await host.Nodes.RegisterPendingAsync(id, user.Name, DateTimeOffset.UtcNow, Cause.Cli("nodes register"), Ct);
        var outcome = await followup.WaitAsync(TimeSpan.FromSeconds(10), Ct);

        Assert.Equal(ResultCode.Ok, approved.Result.Code);
        Assert.Equal(RegisterMethod.Cli, approved.Node!.Method);
        Assert.True(outcome.MachineAuthorized);
        Assert.Equal("", outcome.AuthUrl);
        Assert.Equal(user.Name, outcome.Login!.LoginName);
        Assert.Equal(approved.Node.Id, outcome.Node!.Id);
        Assert.StartsWith("desk-top", outcome.Node.GivenName);
        Assert.Null(await host.Nodes.GetPendingAsync(id, Ct));

        // A client that polls again after the approval is answered from its now known node key.
        var late = await host.RegisterAsync(machine, request with { Followup = first.AuthUrl });
        Assert.True(late.MachineAuthorized);
        Assert.Equal(approved.Node.Id, late.Node!.Id);
        var twice = await host.Nodes.RegisterPendingAsync(id, user.Name, DateTimeOffset.UtcNow, Cause.Cli("nodes register"), Ct);
        Assert.Equal(ResultCode.NotFound, twice.Result.Code);
    }

    [Fact]
    public async Task Approval_for_an_unknown_user_or_registration_changes_nothing()
    {
        var machine = TestKeys.RandomMachine();
        var first = await host.RegisterAsync(machine, LifecycleHost.Request(TestKeys.RandomNode()));
        var id = first.AuthUrl[(first.AuthUrl.LastIndexOf('/') + 1)..];

        var noUser = await host.Nodes.RegisterPendingAsync(id, "nobody-" + Guid.NewGuid().ToString("N"), DateTimeOffset.UtcNow, Cause.Cli("nodes register"), Ct);
        var noRegistration = await host.Nodes.RegisterPendingAsync("AAAAAAAAAAAAAAAAAAAAAAAA", (await host.CreateUserAsync("x")).Name, DateTimeOffset.UtcNow, Cause.Cli("nodes register"), Ct);

        Assert.Equal(Errors.UserNotFound, noUser.Result.Message);
        Assert.Equal(ResultCode.NotFound, noRegistration.Result.Code);
        Assert.NotNull(await host.Nodes.GetPendingAsync(id, Ct));
    }

    [Fact]
    public async Task A_registration_is_held_only_for_the_configured_time_then_a_followup_gets_a_new_url()
    {
        var machine = TestKeys.RandomMachine();
        var request = LifecycleHost.Request(TestKeys.RandomNode());
        var first = await host.RegisterAsync(machine, request);
        var id = first.AuthUrl[(first.AuthUrl.LastIndexOf('/') + 1)..];

        await Eventually(async () => await host.Nodes.GetPendingAsync(id, Ct) is null, TimeSpan.FromSeconds(15));
        var followup = await host.RegisterAsync(machine, request with { Followup = first.AuthUrl });

        Assert.StartsWith(LifecycleHost.ServerUrl + "register/", followup.AuthUrl);
        Assert.NotEqual(first.AuthUrl, followup.AuthUrl);
    }

    [Fact]
    public async Task A_followup_from_another_machine_does_not_see_the_registration()
    {
        var first = await host.RegisterAsync(TestKeys.RandomMachine(), LifecycleHost.Request(TestKeys.RandomNode()));
        var other = await host.RegisterAsync(TestKeys.RandomMachine(), LifecycleHost.Request(TestKeys.RandomNode()) with { Followup = first.AuthUrl });
        Assert.NotEqual(first.AuthUrl, other.AuthUrl);
        Assert.NotEqual("", other.AuthUrl);
    }

    [Fact]
    public async Task Node_key_rotation_with_old_node_key_keeps_the_node()
    {
        var (machine, oldKey, registered) = await RegisterAsync("rotate");
        var newKey = TestKeys.RandomNode();

        var rotated = await host.RegisterAsync(machine, LifecycleHost.Request(newKey) with { OldNodeKey = oldKey });

        Assert.True(rotated.MachineAuthorized);
        Assert.Equal(registered.Id, rotated.Node!.Id);
        Assert.Equal(newKey, rotated.Node.NodeKey);
        Assert.Equal(registered.IPv4, rotated.Node.IPv4);
        var refreshed = await host.RegisterAsync(machine, LifecycleHost.Request(newKey));
        Assert.True(refreshed.MachineAuthorized);
        var stale = await host.RegisterAsync(machine, LifecycleHost.Request(oldKey));
        Assert.NotEqual("", stale.AuthUrl);
    }

    [Fact]
    public async Task Logout_expires_the_node_and_relogin_as_the_same_user_reuses_it()
    {
        var user = await host.CreateUserAsync("relogin");
        var key = await host.CreateKeyAsync(user.Id, reusable: true);
        var machine = TestKeys.RandomMachine();
        var nodeKey = TestKeys.RandomNode();
        var registered = (await host.RegisterAsync(machine, LifecycleHost.Request(nodeKey, key))).Node!;

        var logout = await host.RegisterAsync(machine, LifecycleHost.Request(nodeKey) with { Expiry = LogoutInstant });
        Assert.True(logout.NodeKeyExpired);
        Assert.Equal(LogoutInstant, (await host.Nodes.GetAsync(registered.Id, Ct))!.Expiry);
        Assert.True((await host.RegisterAsync(machine, LifecycleHost.Request(nodeKey))).NodeKeyExpired);

        var newKey = TestKeys.RandomNode();
        var relogin = await host.RegisterAsync(machine, LifecycleHost.Request(newKey, key) with { OldNodeKey = nodeKey });
        Assert.True(relogin.MachineAuthorized);
        Assert.Equal(registered.Id, relogin.Node!.Id);
        Assert.Null(relogin.Node.Expiry);
        Assert.Equal(registered.GivenName, relogin.Node.GivenName);
    }

    [Fact]
    public async Task Relogin_as_another_user_creates_a_new_node_and_keeps_the_old_one()
    {
        var (machine, nodeKey, first) = await RegisterAsync("first-owner");
        var other = await host.CreateUserAsync("second-owner");
        var key = await host.CreateKeyAsync(other.Id);

        var relogin = await host.RegisterAsync(machine, LifecycleHost.Request(TestKeys.RandomNode(), key) with { OldNodeKey = nodeKey });

        Assert.True(relogin.MachineAuthorized);
        Assert.NotEqual(first.Id, relogin.Node!.Id);
        Assert.Equal(other.Id, relogin.Node.User);
        Assert.NotNull(await host.Nodes.GetAsync(first.Id, Ct));
    }

    [Fact]
    public async Task Logout_of_another_machines_node_is_refused_with_401()
    {
        var (_, nodeKey, registered) = await RegisterAsync("victim");

        var outcome = await host.RegisterAsync(TestKeys.RandomMachine(), LifecycleHost.Request(nodeKey) with { Expiry = LogoutInstant });

        Assert.Equal(401, outcome.StatusCode);
        Assert.Null((await host.Nodes.GetAsync(registered.Id, Ct))!.Expiry);
    }

    [Fact]
    public async Task Expiry_can_be_shortened_by_the_client_never_extended_and_admin_expiry_forces_reauth()
    {
        var user = await host.CreateUserAsync("expiry");
        var key = await host.CreateKeyAsync(user.Id);
        var machine = TestKeys.RandomMachine();
        var nodeKey = TestKeys.RandomNode();
        var inADay = DateTimeOffset.UtcNow.AddDays(1);
        var registered = (await host.RegisterAsync(machine, LifecycleHost.Request(nodeKey, key) with { Expiry = inADay })).Node!;
        Assert.Equal(inADay, registered.Expiry);

        var extend = await host.RegisterAsync(machine, LifecycleHost.Request(nodeKey) with { Expiry = inADay.AddDays(1) });
        Assert.Equal(400, extend.StatusCode);
        Assert.Equal(Errors.ExtendingKeyNotAllowed, extend.Error);

        var sooner = await host.RegisterAsync(machine, LifecycleHost.Request(nodeKey) with { Expiry = inADay.AddHours(-1) });
        Assert.True(sooner.MachineAuthorized);
        Assert.Equal(inADay.AddHours(-1), sooner.Node!.Expiry);

        Assert.Equal(ResultCode.Ok, (await host.Nodes.ExpireAsync(registered.Id, null, DateTimeOffset.UtcNow, Cause.Cli("nodes expire"), Ct)).Result.Code);
        var after = await host.RegisterAsync(machine, LifecycleHost.Request(nodeKey));
        Assert.True(after.NodeKeyExpired);
        Assert.False(after.MachineAuthorized);
    }

    [Fact]
    public async Task Ephemeral_nodes_are_deleted_after_disconnect_unless_they_reconnect()
    {
        var user = await host.CreateUserAsync("ephemeral");
        var key = await host.CreateKeyAsync(user.Id, reusable: true, ephemeral: true);
        var kept = (await host.RegisterAsync(TestKeys.RandomMachine(), LifecycleHost.Request(TestKeys.RandomNode(), key))).Node!;
        var gone = (await host.RegisterAsync(TestKeys.RandomMachine(), LifecycleHost.Request(TestKeys.RandomNode(), key))).Node!;
        Assert.True(kept.Ephemeral);

        // The kept node's timer is armed first and cancelled; the other node's timer firing proves the kept one had its chance.
        await host.Nodes.ReportDisconnectedAsync(kept.Id, DateTimeOffset.UtcNow, Ct);
        await host.Nodes.ReportConnectedAsync(kept.Id, DateTimeOffset.UtcNow, Ct);
        await host.Nodes.ReportDisconnectedAsync(gone.Id, DateTimeOffset.UtcNow, Ct);

        await Eventually(async () => await host.Nodes.GetAsync(gone.Id, Ct) is null, TimeSpan.FromSeconds(10));
        Assert.NotNull(await host.Nodes.GetAsync(kept.Id, Ct));
        await Eventually(async () => (await host.Nodes.ListAsync(user.Id, Ct)).Length == 1, TimeSpan.FromSeconds(10));
        var again = await host.RegisterAsync(TestKeys.RandomMachine(), LifecycleHost.Request(gone.NodeKey));
        Assert.NotEqual("", again.AuthUrl);
    }

    [Fact]
    public async Task Logout_deletes_an_ephemeral_node_at_once()
    {
        var user = await host.CreateUserAsync("ephemeral-logout");
        var key = await host.CreateKeyAsync(user.Id, ephemeral: true);
        var machine = TestKeys.RandomMachine();
        var nodeKey = TestKeys.RandomNode();
        var node = (await host.RegisterAsync(machine, LifecycleHost.Request(nodeKey, key))).Node!;

        var logout = await host.RegisterAsync(machine, LifecycleHost.Request(nodeKey) with { Expiry = LogoutInstant });

        Assert.True(logout.NodeKeyExpired);
        Assert.Null(await host.Nodes.GetAsync(node.Id, Ct));
    }

    [Fact]
    public async Task Rename_checks_the_label_and_uniqueness()
    {
        var (_, _, a) = await RegisterAsync("rename-a");
        var (_, _, b) = await RegisterAsync("rename-b");
        var wanted = "renamed-" + Guid.NewGuid().ToString("N")[..8];

        Assert.Equal(ResultCode.Ok, (await host.Nodes.RenameAsync(a.Id, wanted, DateTimeOffset.UtcNow, Cause.Api("abc1234"), Ct)).Result.Code);
        Assert.Equal(ResultCode.Conflict, (await host.Nodes.RenameAsync(b.Id, wanted, DateTimeOffset.UtcNow, Cause.Api("abc1234"), Ct)).Result.Code);
        Assert.Equal(ResultCode.BadRequest, (await host.Nodes.RenameAsync(b.Id, "Bad Name", DateTimeOffset.UtcNow, Cause.Api("abc1234"), Ct)).Result.Code);
        Assert.Equal(wanted, (await host.Nodes.GetAsync(a.Id, Ct))!.GivenName);
    }

    private async Task<(MachineKey Machine, NodeKey NodeKey, Node Node)> RegisterAsync(string userPrefix)
    {
        var user = await host.CreateUserAsync(userPrefix);
        var key = await host.CreateKeyAsync(user.Id);
        var machine = TestKeys.RandomMachine();
        var nodeKey = TestKeys.RandomNode();
        var outcome = await host.RegisterAsync(machine, LifecycleHost.Request(nodeKey, key, userPrefix));
        Assert.Equal("", outcome.Error);
        return (machine, nodeKey, outcome.Node!);
    }

    internal static async Task Eventually(Func<Task<bool>> condition, TimeSpan timeout)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(timeout);
        while (!await condition())
        {
            await Task.Delay(50, cts.Token);
        }
    }
}
