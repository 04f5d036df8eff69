using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text.Json;
using Headscale.Actors.Nodes.Messages;
using Headscale.Actors.Registration;
using Headscale.Actors.Registration.Messages;
using Headscale.Actors.Users;
using static Headscale.Actors.Nodes.Messages.NodeCommands;
using static Headscale.Actors.Registration.Messages.PendingRegistrationCommands;

namespace Headscale.Actors.Nodes;

/// <summary>What a client reported in a map request; null or empty parts were not sent.</summary>
/// <param name="Hostinfo">The raw Hostinfo JSON object, or null when the request carried none.</param>
/// <param name="Hostname">Hostinfo.Hostname.</param>
/// <param name="RoutableIPs">Hostinfo.RoutableIPs, unvalidated.</param>
/// <param name="DiscoKey">MapRequest.DiscoKey, or null/empty.</param>
public sealed record ClientReport(string? Hostinfo, string Hostname, ImmutableArray<string> RoutableIPs, string? DiscoKey);

/// <summary>The outcome of BackfillNodeIPs: a result and one human-readable line per node changed.</summary>
public sealed record BackfillResult(CommandResult Result, ImmutableArray<string> Changes);

/// <summary>The outcome of DebugCreateNode: the pending registration that was stored, and its user.</summary>
public sealed record DebugRegistrationResult(CommandResult Result, PendingRegistration? Registration, Users.Messages.User? User);

/// <summary>Admin operations on node state: tags, routes, ownership, addresses, debug registrations.</summary>
internal sealed partial class NodeService
{
    /// <summary>Longest host name DebugCreateNode accepts (a DNS name).</summary>
    private const int MaxDebugHostnameLength = 255;

    public async Task<NodeCommandResult> ReportClientStateAsync(NodeId id, ClientReport report, DateTimeOffset now, CancellationToken cancellationToken)
    {
        NodeCommandResult? result = null;
        var cause = Cause.System("map request");
        if (report.Hostinfo is { Length: > 0 } hostinfo)
        {
            result = await actors.NodeAsync<NodeCommandResult>(
                new UpdateHostinfo(id, hostinfo, report.Hostname, report.RoutableIPs.IsDefault ? [] : report.RoutableIPs, now, cause), cancellationToken);
            if (!result.Result.Succeeded)
            {
                return result;
            }
        }

        if (report.DiscoKey is { Length: > 0 } disco)
        {
            result = await actors.NodeAsync<NodeCommandResult>(new UpdateDiscoKey(id, disco, now, cause), cancellationToken);
        }

        return result ?? await actors.NodeAsync<NodeCommandResult>(new NodeQueries.GetNode(id), cancellationToken);
    }

    public Task<NodeCommandResult> SetTagsAsync(NodeId id, ImmutableArray<string> tags, DateTimeOffset now, Cause cause, CancellationToken cancellationToken) =>
        actors.NodeAsync<NodeCommandResult>(new SetTags(id, tags.IsDefault ? [] : tags, now, cause), cancellationToken);

    public Task<NodeCommandResult> SetApprovedRoutesAsync(NodeId id, ImmutableArray<string> routes, DateTimeOffset now, Cause cause, CancellationToken cancellationToken) =>
        actors.NodeAsync<NodeCommandResult>(new SetApprovedRoutes(id, routes.IsDefault ? [] : routes, now, cause), cancellationToken);

    public async Task<NodeCommandResult> MoveAsync(NodeId id, UserId user, DateTimeOffset now, Cause cause, CancellationToken cancellationToken)
    {
        if (await GetAsync(id, cancellationToken) is not { } node)
        {
            return new NodeCommandResult(CommandResult.Fail(ResultCode.NotFound, Errors.NodeNotFound), null);
        }

        if (await users.GetAsync(user, cancellationToken) is null)
        {
            return new NodeCommandResult(CommandResult.Fail(ResultCode.NotFound, $"user: {Errors.UserNotFound} (id {user.Value})"), null);
        }

        // The registry answers "nodes of user U" (listing, user deletion), so it moves first.
        var moved = await actors.RegistryAsync<NodeRegistryCommands.NodeRegistryResult>(
            new NodeRegistryCommands.ChangeOwner(id, user, now, cause), cancellationToken);
        if (!moved.Result.Succeeded)
        {
            return new NodeCommandResult(moved.Result, null);
        }

        var result = await actors.NodeAsync<NodeCommandResult>(new MoveNode(id, user, now, cause), cancellationToken);
        if (!result.Result.Succeeded)
        {
            await actors.RegistryAsync<NodeRegistryCommands.NodeRegistryResult>(
                new NodeRegistryCommands.ChangeOwner(id, node.User, now, Cause.System("moving the node failed")), CancellationToken.None);
        }

        return result;
    }

    public async Task<BackfillResult> BackfillAddressesAsync(DateTimeOffset now, Cause cause, CancellationToken cancellationToken)
    {
        var addressing = actors.Settings.Addressing;
        var index = await actors.RegistryAsync<NodeRegistryQueries.NodeIndexList>(new NodeRegistryQueries.ListIndex(null, null), cancellationToken);
        var changes = ImmutableArray.CreateBuilder<string>();
        foreach (var entry in index.Entries)
        {
            var lacksV4 = entry.IPv4.Length == 0 && addressing.V4 is not null;
            var lacksV6 = entry.IPv6.Length == 0 && addressing.V6 is not null;
            if (!lacksV4 && !lacksV6)
            {
                continue;
            }

            var assigned = await actors.RegistryAsync<NodeRegistryCommands.NodeRegistryResult>(
                new NodeRegistryCommands.BackfillAddresses(entry.Id, now, cause), cancellationToken);
            if (!assigned.Result.Succeeded || assigned.Entry is not { } updated)
            {
                return new BackfillResult(assigned.Result, changes.ToImmutable());
            }

            var stored = await actors.NodeAsync<NodeCommandResult>(new AssignAddresses(entry.Id, updated.IPv4, updated.IPv6, now, cause), cancellationToken);
            if (!stored.Result.Succeeded)
            {
                return new BackfillResult(stored.Result, changes.ToImmutable());
            }

            if (lacksV4 && updated.IPv4.Length > 0)
            {
                changes.Add($"node {entry.Id.Value} ({entry.GivenName}): assigned IPv4 {updated.IPv4}");
            }

            if (lacksV6 && updated.IPv6.Length > 0)
            {
                changes.Add($"node {entry.Id.Value} ({entry.GivenName}): assigned IPv6 {updated.IPv6}");
            }
        }

        return new BackfillResult(CommandResult.Ok, changes.ToImmutable());
    }

    public async Task<DebugRegistrationResult> CreateDebugRegistrationAsync(
        string userName, string registrationId, string hostname, ImmutableArray<string> routes, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (registrationId.Length != RegistrationService.RegistrationIdLength || !registrationId.All(c => RegistrationService.IdAlphabet.Contains(c)))
        {
            return Fail(ResultCode.BadRequest,
                $"key: '{registrationId}' is not a registration id ({RegistrationService.RegistrationIdLength} characters of A-Z a-z 0-9 - _)");
        }

        if (string.IsNullOrWhiteSpace(hostname) || hostname.Length > MaxDebugHostnameLength || hostname.Any(char.IsControl))
        {
            return Fail(ResultCode.BadRequest, $"name: a host name of 1 to {MaxDebugHostnameLength} printable characters is required");
        }

        if (!NodeInputs.TryNormaliseRoutes(routes.IsDefault ? [] : routes, "routes", out var announced, out var error))
        {
            return Fail(ResultCode.BadRequest, error);
        }

        if (await users.GetByNameAsync(userName, cancellationToken) is not { } user)
        {
            return Fail(ResultCode.NotFound, $"user: {Errors.UserNotFound} ('{userName}')");
        }

        var registration = new PendingRegistration(
            registrationId,
            MachineKey.FromBytes(RandomNumberGenerator.GetBytes(32)),
            NodeKey.FromBytes(RandomNumberGenerator.GetBytes(32)),
            hostname.Trim(),
            null,
            false,
            now) { AnnouncedRoutes = announced };
        var started = await actors.PendingAsync<CommandResult>(new StartRegistration(registration), cancellationToken);
        return started.Succeeded
            ? new DebugRegistrationResult(CommandResult.Ok, registration, user)
            : new DebugRegistrationResult(started, null, null);

        static DebugRegistrationResult Fail(ResultCode code, string message) => new(CommandResult.Fail(code, message), null, null);
    }

    /// <summary>A registered node announces the routes its pending registration carried, as a Hostinfo of its own.</summary>
    private async Task<NodeCommandResult> AnnounceRoutesAsync(Node node, ImmutableArray<string> routes, DateTimeOffset now, Cause cause, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteString("Hostname", node.Hostname);
            writer.WriteStartArray("RoutableIPs");
            foreach (var route in routes)
            {
                writer.WriteStringValue(route);
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return await actors.NodeAsync<NodeCommandResult>(
            new UpdateHostinfo(node.Id, System.Text.Encoding.UTF8.GetString(buffer.ToArray()), node.Hostname, routes, now, cause), cancellationToken);
    }
}
