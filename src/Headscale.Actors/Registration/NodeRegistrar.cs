using System.Collections.Immutable;
using Headscale.Actors.Identity;
using Headscale.Actors.Nodes;
using Headscale.Actors.Nodes.Messages;
using Headscale.Actors.PreAuthKeys;
using Headscale.Actors.Users;
using static Headscale.Actors.Nodes.Messages.NodeCommands;
using static Headscale.Actors.Nodes.Messages.NodeRegistryCommands;

namespace Headscale.Actors.Registration;

/// <summary>What a successful authentication (pre-auth key or approval) registers.</summary>
internal sealed record NodeRegistrationSpec(
    MachineKey MachineKey,
    NodeKey NodeKey,
    UserId User,
    string Hostname,
    DateTimeOffset? Expiry,
    bool Ephemeral,
    ImmutableArray<string> Tags,
    PreAuthKeyId? AuthKey,
    RegisterMethod Method,
    DateTimeOffset Now,
    Cause Cause);

/// <summary>
/// Creates a node, or updates the node this machine already has for the same owner in place
/// (Headscale 0.27: a machine logging in as another user gets a new node; nodes never move).
/// Each step that can fail undoes the steps before it, so a failed registration leaves nothing:
/// a used single-use key is handed back and reserved addresses and names are released.
/// </summary>
internal sealed class NodeRegistrar(DomainActors actors, IIdAllocator ids)
{
    /// <param name="useKey">Uses the pre-auth key (single writer); null when no key is involved.</param>
    /// <param name="revertKey">Hands the key back if a later step fails.</param>
    public async Task<NodeCommandResult> RegisterAsync(
        NodeRegistrationSpec spec,
        Func<CancellationToken, Task<CommandResult>>? useKey,
        Func<Task>? revertKey,
        CancellationToken cancellationToken)
    {
        var onMachine = await actors.RegistryAsync<NodeRegistryQueries.NodeIndexList>(
            new NodeRegistryQueries.FindByMachineKey(spec.MachineKey), cancellationToken);
        var existing = onMachine.Entries.FirstOrDefault(e => e.User == spec.User);

        if (useKey is not null)
        {
            var used = await useKey(cancellationToken);
            if (!used.Succeeded)
            {
                return new NodeCommandResult(used, null);
            }
        }

        NodeCommandResult result;
        try
        {
            result = existing is null
                ? await CreateAsync(spec, cancellationToken)
                : await UpdateAsync(existing, spec, cancellationToken);
        }
        catch when (revertKey is not null)
        {
            // A timeout or cancellation after the key was used must not leave it used by nobody.
            await revertKey();
            throw;
        }

        if (!result.Result.Succeeded && revertKey is not null)
        {
            await revertKey();
        }

        return result;
    }

    private async Task<NodeCommandResult> CreateAsync(NodeRegistrationSpec spec, CancellationToken cancellationToken)
    {
        var id = new NodeId(await ids.AllocateAsync(IdKind.Node, cancellationToken));
        var hostname = spec.Hostname.Length > 0 ? spec.Hostname : "node-" + spec.NodeKey.Value[NodeKey.Prefix.Length..][..8];
        var reserved = await actors.RegistryAsync<NodeRegistryResult>(
            new ReserveNode(id, spec.MachineKey, spec.NodeKey, spec.User, hostname, spec.Ephemeral, spec.Now, spec.Cause), cancellationToken);
        if (!reserved.Result.Succeeded || reserved.Entry is not { } entry)
        {
            return new NodeCommandResult(reserved.Result, null);
        }

        var registered = await actors.NodeAsync<NodeCommandResult>(
            new RegisterNode(id, spec.MachineKey, spec.NodeKey, spec.User, hostname, entry.GivenName, entry.IPv4, entry.IPv6,
                spec.Expiry, spec.Ephemeral, spec.Tags, spec.AuthKey, spec.Method, spec.Now, spec.Cause),
            cancellationToken);
        if (!registered.Result.Succeeded)
        {
            await actors.RegistryAsync<NodeRegistryResult>(
                new ReleaseNode(id, spec.Now, Cause.System("registration of the node failed")), CancellationToken.None);
        }

        return registered;
    }

    private async Task<NodeCommandResult> UpdateAsync(NodeIndexEntry existing, NodeRegistrationSpec spec, CancellationToken cancellationToken)
    {
        var rebound = await actors.RegistryAsync<NodeRegistryResult>(
            new RebindNode(existing.Id, spec.NodeKey, spec.Ephemeral, spec.Now, spec.Cause), cancellationToken);
        if (!rebound.Result.Succeeded)
        {
            return new NodeCommandResult(rebound.Result, null);
        }

        var hostname = spec.Hostname.Length > 0 ? spec.Hostname : existing.GivenName;
        var updated = await actors.NodeAsync<NodeCommandResult>(
            new ReauthenticateNode(existing.Id, spec.NodeKey, hostname, spec.Expiry, spec.Ephemeral, spec.Tags, spec.AuthKey, spec.Method, spec.Now, spec.Cause),
            cancellationToken);
        if (!updated.Result.Succeeded)
        {
            // Put the registry back to the key the node still has.
            await actors.RegistryAsync<NodeRegistryResult>(
                new RebindNode(existing.Id, existing.NodeKey, existing.Ephemeral, spec.Now, Cause.System("re-authentication failed")),
                CancellationToken.None);
        }

        return updated;
    }
}
