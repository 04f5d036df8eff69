using Headscale.Actors.Nodes;
using Headscale.Actors.PreAuthKeys;
using Headscale.Actors.Registration;

namespace Headscale.Actors.Tests.Lifecycle;

/// <summary>Registration with each kind of pre-auth key, and every way a key can be refused.</summary>
public sealed class PreAuthKeyRegistrationTests(LifecycleHost host) : IClassFixture<LifecycleHost>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_single_use_key_registers_one_node_and_is_then_refused()
    {
        var user = await host.CreateUserAsync("single");
        var key = await host.CreateKeyAsync(user.Id);

        var first = await host.RegisterAsync(TestKeys.RandomMachine(), LifecycleHost.Request(TestKeys.RandomNode(), key, "Joe's Mac mini"));
        Assert.Equal("", first.Error);
        Assert.True(first.MachineAuthorized);
        Assert.False(first.NodeKeyExpired);
        Assert.Equal(user.Name, first.Login!.LoginName);
        Assert.StartsWith("joes-mac-mini", first.Node!.GivenName);
        Assert.NotEmpty(first.Node.IPv4);
        Assert.NotEmpty(first.Node.IPv6);

        var second = await host.RegisterAsync(TestKeys.RandomMachine(), LifecycleHost.Request(TestKeys.RandomNode(), key));
        Assert.Equal(Errors.PreAuthKeyUsed, second.Error);
        Assert.Equal(200, second.StatusCode);
        Assert.Single(await host.Nodes.ListAsync(user.Id, Ct));
        Assert.True(Assert.Single(await host.Keys.ListAsync(user.Id, Ct)).Used);
    }

    [Fact]
    public async Task A_reusable_key_registers_many_machines_and_a_rerun_with_the_same_node_key_updates_in_place()
    {
        var user = await host.CreateUserAsync("reusable");
        var key = await host.CreateKeyAsync(user.Id, reusable: true);
        var machine = TestKeys.RandomMachine();
        var nodeKey = TestKeys.RandomNode();

        var a = await host.RegisterAsync(machine, LifecycleHost.Request(nodeKey, key));
        var b = await host.RegisterAsync(TestKeys.RandomMachine(), LifecycleHost.Request(TestKeys.RandomNode(), key));
        var again = await host.RegisterAsync(machine, LifecycleHost.Request(nodeKey, key));

        Assert.True(a.MachineAuthorized && b.MachineAuthorized && again.MachineAuthorized);
        Assert.NotEqual(a.Node!.IPv4, b.Node!.IPv4);
        Assert.Equal(a.Node.Id, again.Node!.Id);
        Assert.Equal(2, (await host.Nodes.ListAsync(user.Id, Ct)).Length);
        Assert.False(Assert.Single(await host.Keys.ListAsync(user.Id, Ct)).Used);
    }

    [Fact]
    public async Task A_single_use_key_rerun_by_the_same_node_is_not_a_second_use()
    {
        var user = await host.CreateUserAsync("rerun");
        var key = await host.CreateKeyAsync(user.Id);
        var machine = TestKeys.RandomMachine();
        var nodeKey = TestKeys.RandomNode();

        var first = await host.RegisterAsync(machine, LifecycleHost.Request(nodeKey, key));
        var rerun = await host.RegisterAsync(machine, LifecycleHost.Request(nodeKey, key));

        Assert.Equal("", rerun.Error);
        Assert.Equal(first.Node!.Id, rerun.Node!.Id);
    }

    [Fact]
    public async Task Tagged_keys_give_tagged_nodes_shown_as_tagged_devices()
    {
        var user = await host.CreateUserAsync("tagged");
        var key = await host.CreateKeyAsync(user.Id, tags: ["tag:server", "tag:web"]);

        var outcome = await host.RegisterAsync(TestKeys.RandomMachine(), LifecycleHost.Request(TestKeys.RandomNode(), key));

        Assert.Equal(["tag:server", "tag:web"], outcome.Node!.Tags);
        Assert.Equal(RegisteredLogin.TaggedDevices, outcome.Login);
    }

    [Fact]
    public async Task Legacy_48_hex_keys_are_accepted()
    {
        var user = await host.CreateUserAsync("legacy");
        var legacy = PreAuthKeyText.GenerateLegacy();
        var imported = await host.Keys.ImportLegacyAsync(
            new PreAuthKeySpec(user.Id, false, false, DateTimeOffset.UtcNow.AddHours(1), []), legacy, DateTimeOffset.UtcNow, Cause.Cli("import"), Ct);
        Assert.Equal(ResultCode.Ok, imported.Result.Code);
        Assert.Equal(legacy, imported.Key!.Key);

        var outcome = await host.RegisterAsync(TestKeys.RandomMachine(), LifecycleHost.Request(TestKeys.RandomNode(), legacy));
        Assert.True(outcome.MachineAuthorized);
    }

    [Fact]
    public async Task Expired_keys_are_refused_and_leave_nothing_behind()
    {
        var user = await host.CreateUserAsync("expired");
        var stale = await host.CreateKeyAsync(user.Id, reusable: true, validFor: TimeSpan.FromSeconds(-1));
        var expiredByAdmin = await host.CreateKeyAsync(user.Id, reusable: true);
        var id = (await host.Keys.ListAsync(user.Id, Ct)).Single(k => expiredByAdmin.StartsWith(k.Key.TrimEnd('*'), StringComparison.Ordinal)).Id;
        Assert.Equal(ResultCode.Ok, (await host.Keys.ExpireAsync(id, DateTimeOffset.UtcNow, Cause.Cli("preauthkeys expire"), Ct)).Code);

        Assert.Equal(Errors.PreAuthKeyExpired, (await host.RegisterAsync(TestKeys.RandomMachine(), LifecycleHost.Request(TestKeys.RandomNode(), stale))).Error);
        Assert.Equal(Errors.PreAuthKeyExpired, (await host.RegisterAsync(TestKeys.RandomMachine(), LifecycleHost.Request(TestKeys.RandomNode(), expiredByAdmin))).Error);
        Assert.Empty(await host.Nodes.ListAsync(user.Id, Ct));
    }

    [Theory]
    [InlineData("not-a-key")]
    [InlineData("hskey-auth-AAAAAAAAAAAA-BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB")]
    [InlineData("0123456789abcdef0123456789abcdef0123456789abcdef")]
    [InlineData("hskey-auth-short-secret")]
    public async Task Malformed_or_unknown_keys_are_invalid(string key)
    {
        var outcome = await host.RegisterAsync(TestKeys.RandomMachine(), LifecycleHost.Request(TestKeys.RandomNode(), key));
        Assert.Equal(Errors.InvalidPreAuthKey, outcome.Error);
        Assert.False(outcome.MachineAuthorized);
    }

    [Fact]
    public async Task A_known_prefix_with_a_wrong_secret_is_invalid()
    {
        var user = await host.CreateUserAsync("secret");
        var key = await host.CreateKeyAsync(user.Id);
        var forged = key[..^4] + (key.EndsWith("AAAA", StringComparison.Ordinal) ? "BBBB" : "AAAA");

        var outcome = await host.RegisterAsync(TestKeys.RandomMachine(), LifecycleHost.Request(TestKeys.RandomNode(), forged));

        Assert.Equal(Errors.InvalidPreAuthKey, outcome.Error);
        Assert.False(Assert.Single(await host.Keys.ListAsync(user.Id, Ct)).Used);
    }

    [Fact]
    public async Task A_deleted_users_keys_no_longer_register()
    {
        var user = await host.CreateUserAsync("deleted");
        var key = await host.CreateKeyAsync(user.Id, reusable: true);
        Assert.Equal(ResultCode.Ok, (await host.Users.DeleteAsync(user.Id, DateTimeOffset.UtcNow, Cause.Cli("users destroy"), Ct)).Result.Code);

        var outcome = await host.RegisterAsync(TestKeys.RandomMachine(), LifecycleHost.Request(TestKeys.RandomNode(), key));

        Assert.Equal(Errors.InvalidPreAuthKey, outcome.Error);
        Assert.Empty(await host.Keys.ListAsync(user.Id, Ct));
    }

    [Fact]
    public async Task A_user_with_nodes_cannot_be_deleted()
    {
        var user = await host.CreateUserAsync("owner");
        var key = await host.CreateKeyAsync(user.Id);
        await host.RegisterAsync(TestKeys.RandomMachine(), LifecycleHost.Request(TestKeys.RandomNode(), key));

        var deleted = await host.Users.DeleteAsync(user.Id, DateTimeOffset.UtcNow, Cause.Cli("users destroy"), Ct);

        Assert.Equal(ResultCode.Conflict, deleted.Result.Code);
        Assert.NotNull(await host.Users.GetAsync(user.Id, Ct));
    }

    [Fact]
    public async Task Hundred_clients_racing_one_single_use_key_register_exactly_one_node()
    {
        var user = await host.CreateUserAsync("race");
        var key = await host.CreateKeyAsync(user.Id);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, 100).Select(_ =>
            Task.Run(() => host.RegisterAsync(TestKeys.RandomMachine(), LifecycleHost.Request(TestKeys.RandomNode(), key)), Ct)));

        Assert.Single(outcomes, o => o.MachineAuthorized && o.Error == "");
        Assert.Equal(99, outcomes.Count(o => o.Error == Errors.PreAuthKeyUsed));
        Assert.Single(await host.Nodes.ListAsync(user.Id, Ct));
    }
}
