using Headscale.Actors.ApiKeys;
using Headscale.Actors.Auditing;
using static Headscale.Actors.ApiKeys.ApiKeyCommands;

namespace Headscale.Actors.Tests;

public sealed class ApiKeyDirectoryTests
{
    private static readonly Cause Cli = new(CauseKind.Cli, "");
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public void Decide_refuses_duplicates_and_unknown_prefixes_without_events()
    {
        var now = DateTimeOffset.UnixEpoch;
        var state = ApiKeyState.Empty.Apply(new ApiKeyEvents.ApiKeyCreated(1, "abcdefg", "h", now, now, Cli));

        var (duplicate, e1) = state.Decide(new CreateApiKey("abcdefg", "h2", now, now, Cli));
        var (missing, e2) = state.Decide(new ExpireApiKey("zzzzzzz", now, now, Cli));
        var (blank, e3) = state.Decide(new CreateApiKey(" ", "h", now, now, Cli));

        Assert.Equal((ApiKeyResultCode.Conflict, (object?)null), (duplicate.Code, e1));
        Assert.Equal((ApiKeyResultCode.NotFound, (object?)null), (missing.Code, e2));
        Assert.Equal((ApiKeyResultCode.BadRequest, (object?)null), (blank.Code, e3));
    }

    [Fact]
    public async Task Keys_are_created_expired_deleted_and_survive_a_restart()
    {
        using var directory = new TempDirectory();
        var expiry = DateTimeOffset.UtcNow.AddDays(90);
        await using (var host = await ActorHost.StartAsync(directory.File("db.sqlite")))
        {
            var keys = host.Get<IApiKeyDirectory>();
            var first = await keys.CreateAsync("aaaaaaa", "hash-a", expiry, Cli, Ct);
            var second = await keys.CreateAsync("bbbbbbb", "hash-b", expiry, Cli, Ct);
            var duplicate = await keys.CreateAsync("aaaaaaa", "hash-c", expiry, Cli, Ct);
            var expired = await keys.ExpireAsync("bbbbbbb", DateTimeOffset.UnixEpoch, Cli, Ct);
            var deleted = await keys.DeleteAsync("aaaaaaa", Cli, Ct);

            Assert.Equal(ApiKeyResultCode.Ok, first.Code);
            Assert.Equal(1UL, first.Key!.Id);
            Assert.Equal(2UL, second.Key!.Id);
            Assert.Equal(ApiKeyResultCode.Conflict, duplicate.Code);
            Assert.Equal(DateTimeOffset.UnixEpoch, expired.Key!.Expiration);
            Assert.Equal("aaaaaaa", deleted.Key!.Prefix);
        }

        await using (var host = await ActorHost.StartAsync(directory.File("db.sqlite")))
        {
            var keys = host.Get<IApiKeyDirectory>();
            var remaining = Assert.Single(await keys.ListAsync(Ct));
            Assert.Equal(("bbbbbbb", "hash-b", (DateTimeOffset?)DateTimeOffset.UnixEpoch), (remaining.Prefix, remaining.Hash, remaining.Expiration));
            Assert.Null(await keys.FindAsync("aaaaaaa", Ct));
            Assert.Equal(3UL, (await keys.CreateAsync("ccccccc", "hash-c", expiry, Cli, Ct)).Key!.Id);
        }
    }
}
