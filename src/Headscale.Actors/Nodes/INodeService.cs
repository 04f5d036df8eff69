using System.Collections.Immutable;
using Headscale.Actors.Nodes.Messages;
using Headscale.Actors.Registration;
using Headscale.Actors.Registration.Messages;
using Headscale.Actors.Users;
using static Headscale.Actors.Nodes.Messages.NodeCommands;
using static Headscale.Actors.Registration.Messages.PendingRegistrationCommands;

namespace Headscale.Actors.Nodes;

/// <summary>Nodes for the management API, the CLI and the map session layer. Never exposes actors.</summary>
public interface INodeService
{
    Task<Node?> GetAsync(NodeId id, CancellationToken cancellationToken);

    /// <summary>The registry entry holding this node key, or null (used to admit DERP clients).</summary>
    Task<NodeIndexEntry?> FindByNodeKeyAsync(NodeKey key, CancellationToken cancellationToken);

    /// <summary>Every node (of one user when given), ordered by id.</summary>
    Task<ImmutableArray<Node>> ListAsync(UserId? user, CancellationToken cancellationToken);

    /// <summary>Sets the node's key expiry to <paramref name="at"/>, or to now when null (CLI <c>nodes expire</c>).</summary>
    Task<NodeCommandResult> ExpireAsync(NodeId id, DateTimeOffset? at, DateTimeOffset now, Cause cause, CancellationToken cancellationToken);

    Task<NodeCommandResult> DeleteAsync(NodeId id, DateTimeOffset now, Cause cause, CancellationToken cancellationToken);

    /// <summary>Sets the given name (MagicDNS label): BadRequest if invalid, Conflict if another node has it.</summary>
    Task<NodeCommandResult> RenameAsync(NodeId id, string givenName, DateTimeOffset now, Cause cause, CancellationToken cancellationToken);

    /// <summary>
    /// Approves an interactive registration (<c>headscale nodes register --user U --key ID</c>) for
    /// the user named <paramref name="userName"/>; the waiting client is released with the outcome.
    /// </summary>
    Task<NodeCommandResult> RegisterPendingAsync(string registrationId, string userName, DateTimeOffset now, Cause cause, CancellationToken cancellationToken);

    /// <summary>The interactive registration with this id, if it is still waiting.</summary>
    Task<PendingRegistration?> GetPendingAsync(string registrationId, CancellationToken cancellationToken);

    /// <summary>
    /// Stores what a client reported in a map request: the Hostinfo (raw JSON, with the host name and
    /// routable IPs read from it; nothing is written when it did not change) and the disco key.
    /// BadRequest names the field that is invalid; nothing is stored then.
    /// </summary>
    Task<NodeCommandResult> ReportClientStateAsync(NodeId id, ClientReport report, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>Replaces the admin tags (<c>tag:</c> names). BadRequest names the bad tag; NotFound for an unknown node.</summary>
    Task<NodeCommandResult> SetTagsAsync(NodeId id, ImmutableArray<string> tags, DateTimeOffset now, Cause cause, CancellationToken cancellationToken);

    /// <summary>Replaces the approved routes (prefixes). BadRequest names the bad prefix; NotFound for an unknown node.</summary>
    Task<NodeCommandResult> SetApprovedRoutesAsync(NodeId id, ImmutableArray<string> routes, DateTimeOffset now, Cause cause, CancellationToken cancellationToken);

    /// <summary>
    /// Gives the node to another user (Headscale 0.27 <c>MoveNode</c>). Tags stay as they are: in 0.27
    /// a tagged node is still owned by a user. NotFound for an unknown node or user.
    /// </summary>
    Task<NodeCommandResult> MoveAsync(NodeId id, UserId user, DateTimeOffset now, Cause cause, CancellationToken cancellationToken);

    /// <summary>Assigns missing v4/v6 addresses from the configured prefixes to every node; returns one line per change.</summary>
    Task<BackfillResult> BackfillAddressesAsync(DateTimeOffset now, Cause cause, CancellationToken cancellationToken);

    /// <summary>
    /// Puts a made-up interactive registration for user <paramref name="userName"/> into the pending
    /// registrations (Headscale's <c>DebugCreateNode</c>); <c>nodes register --key</c> then completes it.
    /// </summary>
    Task<DebugRegistrationResult> CreateDebugRegistrationAsync(
        string userName, string registrationId, string hostname, ImmutableArray<string> routes, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>The map session layer reports that the node's stream opened (cancels ephemeral cleanup).</summary>
    Task ReportConnectedAsync(NodeId id, DateTimeOffset now, CancellationToken cancellationToken);

    /// <summary>The map session layer reports that the node's last stream ended (arms ephemeral cleanup).</summary>
    Task ReportDisconnectedAsync(NodeId id, DateTimeOffset now, CancellationToken cancellationToken);
}

internal sealed partial class NodeService(DomainActors actors, NodeRegistrar registrar, IUserService users) : INodeService
{
    /// <summary>How many node entities a listing asks at once.</summary>
    private const int ListParallelism = 32;

    public async Task<Node?> GetAsync(NodeId id, CancellationToken cancellationToken) =>
        (await actors.NodeAsync<NodeCommandResult>(new NodeQueries.GetNode(id), cancellationToken)).Node;

    public async Task<NodeIndexEntry?> FindByNodeKeyAsync(NodeKey key, CancellationToken cancellationToken) =>
        (await actors.RegistryAsync<NodeRegistryQueries.NodeIndexList>(new NodeRegistryQueries.FindByNodeKey(key), cancellationToken)).Entries.FirstOrDefault();

    public async Task<ImmutableArray<Node>> ListAsync(UserId? user, CancellationToken cancellationToken)
    {
        // The registry knows which nodes exist; details come from the entities. A projection over the
        // journal's tags replaces this fan-out once the network map read model exists.
        var index = await actors.RegistryAsync<NodeRegistryQueries.NodeIndexList>(new NodeRegistryQueries.ListIndex(null, user), cancellationToken);
        var nodes = new Node?[index.Entries.Length];
        await Parallel.ForAsync(0, index.Entries.Length, new ParallelOptions { MaxDegreeOfParallelism = ListParallelism, CancellationToken = cancellationToken },
            async (i, ct) => nodes[i] = await GetAsync(index.Entries[i].Id, ct));
        return [.. nodes.OfType<Node>()];
    }

    public Task<NodeCommandResult> ExpireAsync(NodeId id, DateTimeOffset? at, DateTimeOffset now, Cause cause, CancellationToken cancellationToken) =>
        actors.NodeAsync<NodeCommandResult>(new ExpireNode(id, at ?? now, now, cause), cancellationToken);

    public Task<NodeCommandResult> DeleteAsync(NodeId id, DateTimeOffset now, Cause cause, CancellationToken cancellationToken) =>
        actors.NodeAsync<NodeCommandResult>(new DeleteNode(id, now, cause), cancellationToken);

    public async Task<NodeCommandResult> RenameAsync(NodeId id, string givenName, DateTimeOffset now, Cause cause, CancellationToken cancellationToken)
    {
        var granted = await actors.RegistryAsync<NodeRegistryCommands.NodeRegistryResult>(
            new NodeRegistryCommands.ChangeGivenName(id, givenName, now, cause), cancellationToken);
        return granted.Result.Succeeded
            ? await actors.NodeAsync<NodeCommandResult>(new RenameNode(id, givenName, now, cause), cancellationToken)
            : new NodeCommandResult(granted.Result, null);
    }

    public async Task<NodeCommandResult> RegisterPendingAsync(string registrationId, string userName, DateTimeOffset now, Cause cause, CancellationToken cancellationToken)
    {
        if (await users.GetByNameAsync(userName, cancellationToken) is not { } user)
        {
            return new NodeCommandResult(CommandResult.Fail(ResultCode.NotFound, Errors.UserNotFound), null);
        }

        var claim = await actors.PendingAsync<ClaimResult>(new ClaimRegistration(registrationId), cancellationToken);
        if (claim.Registration is not { } pending)
        {
            return new NodeCommandResult(claim.Result, null);
        }

        var method = cause.Kind == CauseKind.Api ? RegisterMethod.Api : RegisterMethod.Cli;
        var expiry = RegistrationService.EffectiveExpiry(pending.RequestedExpiry, now, actors.Settings.NodeExpiry);
        var spec = new NodeRegistrationSpec(
            pending.MachineKey, pending.NodeKey, user.Id, pending.Hostname, expiry, pending.Ephemeral, [], null, method, now, cause);
        var result = await registrar.RegisterAsync(spec, null, null, cancellationToken);
        if (result.Node is { } registered && !pending.AnnouncedRoutes.IsDefaultOrEmpty)
        {
            result = await AnnounceRoutesAsync(registered, pending.AnnouncedRoutes, now, cause, cancellationToken);
        }

        await actors.PendingAsync<CommandResult>(
            new FinishRegistration(registrationId, result.Node?.Id, result.Result.Succeeded ? "" : result.Result.Message), CancellationToken.None);
        return result;
    }

    public async Task<PendingRegistration?> GetPendingAsync(string registrationId, CancellationToken cancellationToken) =>
        (await actors.PendingAsync<ClaimResult>(new PeekRegistration(registrationId), cancellationToken)).Registration;

    public Task ReportConnectedAsync(NodeId id, DateTimeOffset now, CancellationToken cancellationToken) =>
        actors.TellNodeAsync(new NodeConnected(id, now), cancellationToken);

    public Task ReportDisconnectedAsync(NodeId id, DateTimeOffset now, CancellationToken cancellationToken) =>
        actors.TellNodeAsync(new NodeDisconnected(id, now), cancellationToken);
}
