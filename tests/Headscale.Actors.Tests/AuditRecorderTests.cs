using Akka.Actor;
using Headscale.Actors.Auditing;
using static Headscale.Actors.Auditing.AuditRecorderCommands;

namespace Headscale.Actors.Tests;

public sealed class AuditRecorderTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static async Task<AuditPage> AwaitEntriesAsync(IAuditLog log, int expected)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        while (true)
        {
            var page = await log.ReadAsync(new AuditQuery { Kind = "auth.", Limit = AuditQuery.MaxLimit }, timeout.Token);
            if (page.Entries.Length >= expected)
            {
                return page;
            }

            await Task.Delay(50, timeout.Token);
        }
    }

    [Fact]
    public async Task A_flood_of_refusals_is_stored_as_first_refusals_plus_one_summary_per_group_and_one_overflow()
    {
        using var directory = new TempDirectory();
        await using var host = await ActorHost.StartAsync(directory.File("db.sqlite"));
        var system = host.Get<ActorSystem>();
        var recorder = system.ActorOf(AuditRecorderActor.Props(AuditRecorderActor.PersistenceIdPrefix + "flood", TimeProvider.System, TimeSpan.FromMilliseconds(500)));
        var at = DateTimeOffset.UtcNow;

        recorder.Tell(new RecordApiAuthenticationFailure("abcdefg", "wrong-secret", "192.0.2.1", "ListUsers", at));
        for (var i = 0; i < 50; i++)
        {
            recorder.Tell(new RecordApiAuthenticationFailure("abcdefg", "wrong-secret", "192.0.2.1", "ListNodes", at));
        }

        // 150 further sources: 99 fill the window's 100 groups, 51 go to the overflow summary.
        for (var i = 0; i < 150; i++)
        {
            recorder.Tell(new RecordApiAuthenticationFailure("", "missing", $"198.51.100.{i}", "ListUsers", at));
        }

        var page = await AwaitEntriesAsync(host.Get<IAuditLog>(), 1 + 99 + 2);

        Assert.Equal(102, page.Entries.Length);
        Assert.All(page.Entries, e => Assert.Equal(AuditOutcomes.Denied, e.Outcome));
        var first = page.Entries[0];
        Assert.Equal(("auth.api.failed", "apikey:abcdefg", "Api:abcdefg", "ListUsers"), (first.Kind, first.Subject, first.Actor, first.Via));
        Assert.Contains("192.0.2.1", first.Detail);
        var summary = Assert.Single(page.Entries, e => e.Detail.StartsWith("50 ", StringComparison.Ordinal));
        Assert.Equal(("apikey:abcdefg", "ListNodes"), (summary.Subject, summary.Via));
        var overflow = Assert.Single(page.Entries, e => e.Detail.Contains("from *", StringComparison.Ordinal));
        Assert.StartsWith("51 ", overflow.Detail);
        Assert.Equal(99, page.Entries.Count(e => e.Subject == "api" && e.Detail.Contains("198.51.100.", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task The_recorder_facade_stores_a_refusal_durably_across_a_restart()
    {
        using var directory = new TempDirectory();
        await using (var host = await ActorHost.StartAsync(directory.File("db.sqlite"), services => services.AddHeadscaleAuditRecorder()))
        {
            host.Get<IAuditRecorder>().ApiAuthenticationFailed("hijklmn", "expired", "203.0.113.9", "CreateApiKey");
            host.Get<IAuditRecorder>().RegistrationRefused("mkey:" + new string('b', 64), "preauthkey", "invalid pre auth key");
            await AwaitEntriesAsync(host.Get<IAuditLog>(), 2);
        }

        await using (var host = await ActorHost.StartAsync(directory.File("db.sqlite")))
        {
            var entry = Assert.Single((await host.Get<IAuditLog>().ReadAsync(new AuditQuery { Actor = "Api:hijklmn" }, Ct)).Entries);
            Assert.Equal(("auth.api.failed", "apikey:hijklmn", "CreateApiKey", "denied"), (entry.Kind, entry.Subject, entry.Via, entry.Outcome));
            Assert.Equal("management call refused from 203.0.113.9: API key expired", entry.Detail);
            var refused = Assert.Single((await host.Get<IAuditLog>().ReadAsync(new AuditQuery { Kind = "auth.registration." }, Ct)).Entries);
            Assert.Equal(("machine:mkey:" + new string('b', 64), "Client:mkey:" + new string('b', 64), "denied"), (refused.Subject, refused.Actor, refused.Outcome));
            Assert.Equal("preauthkey registration refused: invalid pre auth key", refused.Detail);
        }
    }
}
