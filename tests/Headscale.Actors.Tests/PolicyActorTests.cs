using Headscale.Actors.Auditing;
using Headscale.Actors.Policy;
using Microsoft.Extensions.DependencyInjection;
using static Headscale.Actors.Policy.PolicyCommands;

namespace Headscale.Actors.Tests;

public sealed class PolicyActorTests
{
    private static readonly Cause Cli = new(CauseKind.Cli, "");
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>A validator with a rule of its own: texts containing "broken" are invalid.</summary>
    private sealed class MarkerValidator : IPolicyValidator
    {
        public string? Validate(string text) => text.Contains("broken", StringComparison.Ordinal) ? "parsing policy: broken at line 1" : null;
    }

    [Fact]
    public async Task A_broken_policy_never_replaces_a_good_one_and_versions_survive_restart()
    {
        using var directory = new TempDirectory();
        void Validator(IServiceCollection s) => s.AddSingleton<IPolicyValidator, MarkerValidator>();

        await using (var host = await ActorHost.StartAsync(directory.File("db.sqlite"), Validator))
        {
            var policy = host.Get<IPolicyStore>();
            Assert.Equal(PolicyResultCode.NotFound, (await policy.GetAsync(Ct)).Code);

            var rejectedFirst = await policy.SetAsync("{ broken", Cli, Ct);
            Assert.Equal(PolicyResultCode.Invalid, rejectedFirst.Code);
            Assert.Equal("parsing policy: broken at line 1", rejectedFirst.Message);
            Assert.Equal(PolicyResultCode.NotFound, (await policy.GetAsync(Ct)).Code);

            var good = await policy.SetAsync("""{"acls":[]}""", Cli, Ct);
            Assert.Equal((PolicyResultCode.Ok, 1L), (good.Code, good.Version));

            Assert.Equal(PolicyResultCode.Invalid, (await policy.SetAsync("still broken", Cli, Ct)).Code);
            Assert.Equal(PolicyResultCode.Invalid, (await policy.SetAsync(new string('x', PolicyActor.MaxPolicyBytes + 1), Cli, Ct)).Code);
        }

        await using (var host = await ActorHost.StartAsync(directory.File("db.sqlite"), Validator))
        {
            var current = await host.Get<IPolicyStore>().GetAsync(Ct);
            Assert.Equal((PolicyResultCode.Ok, """{"acls":[]}""", 1L), (current.Code, current.Text, current.Version));
            Assert.NotNull(current.UpdatedAt);
        }
    }

    [Fact]
    public async Task The_server_validates_with_the_policy_engine_by_default()
    {
        using var directory = new TempDirectory();
        await using var host = await ActorHost.StartAsync(directory.File("db.sqlite"));
        var policy = host.Get<IPolicyStore>();

        var broken = await policy.SetAsync("""{"acls": [{"action": "accept", "src": ["*"], "dst": ["*:22"]}], "bogus": 1}""", Cli, Ct);
        var good = await policy.SetAsync("""{"acls": [{"action": "accept", "src": ["*"], "dst": ["*:22"]},]}""", Cli, Ct);

        Assert.Equal(PolicyResultCode.Invalid, broken.Code);
        Assert.Contains("bogus", broken.Message);
        Assert.Equal(PolicyResultCode.Ok, good.Code);
    }
}
