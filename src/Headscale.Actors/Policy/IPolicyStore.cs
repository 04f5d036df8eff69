using Akka.Actor;
using Akka.Hosting;
using Headscale.Actors.Auditing;
using static Headscale.Actors.Policy.PolicyCommands;

namespace Headscale.Actors.Policy;

/// <summary>Registry key for the policy singleton proxy.</summary>
public sealed class PolicySingleton;

/// <summary>The database-mode policy for the management layer.</summary>
public interface IPolicyStore
{
    Task<PolicyResult> GetAsync(CancellationToken cancellationToken);
    Task<PolicyResult> SetAsync(string text, Cause cause, CancellationToken cancellationToken);
}

internal sealed class PolicyStoreFacade(IRequiredActor<PolicySingleton> policy, TimeProvider time) : IPolicyStore
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(30);

    public async Task<PolicyResult> GetAsync(CancellationToken cancellationToken)
    {
        var actor = await policy.GetAsync(cancellationToken);
        return await actor.Ask<PolicyResult>(GetPolicy.Instance, AskTimeout, cancellationToken);
    }

    public async Task<PolicyResult> SetAsync(string text, Cause cause, CancellationToken cancellationToken)
    {
        var actor = await policy.GetAsync(cancellationToken);
        return await actor.Ask<PolicyResult>(new SetPolicy(text, time.GetUtcNow(), cause), AskTimeout, cancellationToken);
    }
}
