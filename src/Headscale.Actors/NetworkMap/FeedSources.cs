using Akka.Actor;
using Headscale.Actors.Nodes;
using Headscale.Actors.Nodes.Messages;
using Headscale.Actors.Policy;
using Headscale.Actors.Users.Messages;

namespace Headscale.Actors.NetworkMap;

/// <summary>Where the tailnet's policy comes from (config.yaml <c>policy.mode</c>).</summary>
public enum NetworkMapPolicySource
{
    /// <summary>No policy: every node sees every node.</summary>
    None = 0,

    /// <summary><c>policy.mode: file</c>: the file at <c>policy.path</c>, read when the host starts and on SIGHUP.</summary>
    File = 1,

    /// <summary><c>policy.mode: database</c>: the policy singleton, followed as it changes.</summary>
    Database = 2,
}

/// <summary>The actors and settings the network map feed reads at start; the actors are the cluster-wide proxies.</summary>
public sealed class FeedSources(
    IActorRef registry,
    IActorRef nodes,
    IActorRef users,
    IActorRef policy,
    NetworkMapPolicySource policySource,
    string? policyPath,
    TimeSpan askTimeout)
{
    /// <summary>
    /// Every node with its journal version (those the registry lists, plus <paramref name="alsoAsk"/>:
    /// a node deleted since shows as deleted), every user, and the policy in force.
    /// </summary>
    public async Task<Loaded> LoadAsync(int parallelism, IReadOnlyCollection<NodeId> alsoAsk)
    {
        var index = await registry.Ask<NodeRegistryQueries.NodeIndexList>(new NodeRegistryQueries.ListIndex(null, null), askTimeout);
        var ids = index.Entries.Select(e => e.Id).Union(alsoAsk).ToArray();
        var nodeStates = new NodeNotifications.NodeChanged[ids.Length];
        await Parallel.ForAsync(0, ids.Length, new ParallelOptions { MaxDegreeOfParallelism = parallelism },
            async (i, _) => nodeStates[i] = await nodes.Ask<NodeNotifications.NodeChanged>(new NodeQueries.GetNodeVersion(ids[i]), askTimeout));
        var userList = await users.Ask<UserQueries.UserList>(UserQueries.ListUsers.Instance, askTimeout);
        return new Loaded([.. nodeStates], userList.Users, await LoadPolicyAsync());
    }

    /// <summary>The policy file read again (on SIGHUP); null when the policy does not come from a file.</summary>
    public async Task<LoadedPolicy?> ReadPolicyFileAsync() =>
        policySource == NetworkMapPolicySource.File && !string.IsNullOrEmpty(policyPath)
            ? new LoadedPolicy(await File.ReadAllTextAsync(policyPath), 0, $"policy file {policyPath}")
            : null;

    private async Task<LoadedPolicy?> LoadPolicyAsync()
    {
        switch (policySource)
        {
            case NetworkMapPolicySource.File when !string.IsNullOrEmpty(policyPath):
                return new LoadedPolicy(await File.ReadAllTextAsync(policyPath), 0, $"policy file {policyPath}");
            case NetworkMapPolicySource.Database:
                var current = await policy.Ask<PolicyCommands.PolicyResult>(PolicyCommands.GetPolicy.Instance, askTimeout);
                return current.Code == PolicyCommands.PolicyResultCode.Ok
                    ? new LoadedPolicy(current.Text, current.Version, $"policy version {current.Version}")
                    : new LoadedPolicy(null, 0, "no policy");
            default:
                return null;
        }
    }
}
