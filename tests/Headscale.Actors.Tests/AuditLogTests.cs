using Headscale.Actors.ApiKeys;
using Headscale.Actors.Auditing;
using Headscale.Actors.Policy;

namespace Headscale.Actors.Tests;

public sealed class AuditLogTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Admin_actions_are_read_back_from_the_journal_with_actor_and_subject_and_no_secret_after_restart()
    {
        using var directory = new TempDirectory();
        var cli = new Cause(CauseKind.Cli, "");
        var api = new Cause(CauseKind.Api, "abcdefg") { Via = "SetPolicy" };
        const string secretHash = "$2a$10$SECRETHASHSECRETHASH";
        await using (var host = await ActorHost.StartAsync(directory.File("db.sqlite")))
        {
            var keys = host.Get<IApiKeyDirectory>();
            await keys.CreateAsync("abcdefg", secretHash, DateTimeOffset.UtcNow.AddDays(1), cli, Ct);
            await keys.ExpireAsync("abcdefg", DateTimeOffset.UtcNow, api, Ct);
            await host.Get<IPolicyStore>().SetAsync("""{"acls":[]}""", api, Ct);
            await host.Get<IPolicyStore>().SetAsync("""{"nonsense":1}""", api, Ct); // refused: not audited as a change
        }

        await using (var host = await ActorHost.StartAsync(directory.File("db.sqlite")))
        {
            var audit = host.Get<IAuditLog>();
            var all = await audit.ReadAsync(new AuditQuery(), Ct);

            Assert.Equal(["apikey.created", "apikey.expired", "policy.changed"], all.Entries.Select(e => e.Kind));
            Assert.Equal(["Cli", "Api:abcdefg", "Api:abcdefg"], all.Entries.Select(e => e.Actor));
            Assert.Equal(["apikey:abcdefg", "apikey:abcdefg", "policy"], all.Entries.Select(e => e.Subject));
            Assert.Equal(["", "SetPolicy", "SetPolicy"], all.Entries.Select(e => e.Via));
            Assert.DoesNotContain(all.Entries, e => (e.Detail + e.Subject + e.Actor).Contains("SECRET", StringComparison.Ordinal));
            Assert.Null(all.NextOffset);

            var firstPage = await audit.ReadAsync(new AuditQuery { Limit = 2 }, Ct);
            Assert.Equal(2, firstPage.Entries.Length);
            var secondPage = await audit.ReadAsync(new AuditQuery { Limit = 2, AfterOffset = firstPage.NextOffset!.Value }, Ct);
            Assert.Equal("policy.changed", Assert.Single(secondPage.Entries).Kind);

            var byActor = await audit.ReadAsync(new AuditQuery { Actor = "Cli" }, Ct);
            Assert.Equal("apikey.created", Assert.Single(byActor.Entries).Kind);
            var policyOnly = await audit.ReadAsync(new AuditQuery { Kind = "policy." }, Ct);
            Assert.Single(policyOnly.Entries);
            var future = await audit.ReadAsync(new AuditQuery { From = DateTimeOffset.UtcNow.AddHours(1) }, Ct);
            Assert.Empty(future.Entries);
        }
    }

    [Fact]
    public async Task Lifecycle_events_appear_in_the_audit_log_without_secrets()
    {
        using var directory = new TempDirectory();
        await using var host = await ActorHost.StartAsync(directory.File("db.sqlite"));
        var now = DateTimeOffset.UtcNow;
        var user = await host.Get<Headscale.Actors.Users.IUserService>().CreateAsync("alice", "Alice", "", now, Cause.Cli("users create"), Ct);
        var key = await host.Get<Headscale.Actors.PreAuthKeys.IPreAuthKeyService>().CreateAsync(
            new Headscale.Actors.PreAuthKeys.PreAuthKeySpec(user.User!.Id, false, false, now.AddHours(1), []), now, Cause.Api("abcdefg"), Ct);

        var page = await host.Get<IAuditLog>().ReadAsync(new AuditQuery(), Ct);

        Assert.Equal(["user.created", "preauthkey.created"], page.Entries.Select(e => e.Kind));
        Assert.Equal([$"user:{user.User.Id.Value}", $"preauthkey:{key.Key!.Id.Value}"], page.Entries.Select(e => e.Subject));
        Assert.Equal(["Cli:users create", "Api:abcdefg"], page.Entries.Select(e => e.Actor));
        var secret = key.FullKey[(key.FullKey.LastIndexOf('-') + 1)..];
        Assert.DoesNotContain(page.Entries, e => (e.Detail + e.Subject + e.Actor).Contains(secret, StringComparison.Ordinal));
        Assert.True(page.Entries[0].Offset < page.Entries[1].Offset);
    }
}
