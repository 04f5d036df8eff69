using System.Security.Cryptography;
using Akka.Actor;
using Headscale.Actors.Nodes;
using Headscale.Actors.Nodes.Messages;
using Headscale.Actors.PreAuthKeys;
using Headscale.Actors.PreAuthKeys.Messages;
using Headscale.Actors.Registration.Messages;
using Headscale.Actors.Users;
using static Headscale.Actors.Nodes.Messages.NodeCommands;
using static Headscale.Actors.Registration.Messages.PendingRegistrationCommands;

namespace Headscale.Actors.Registration;

/// <summary>The <c>POST /machine/register</c> logic, for the control-protocol endpoint.</summary>
public interface IRegistrationService
{
    /// <summary>
    /// Decides a register request of the machine authenticated by Noise, in the order of the
    /// control-protocol spec §g.4: logout, known node key, key rotation, follow-up, pre-auth key,
    /// interactive. A follow-up waits until the registration is approved or <paramref name="cancellationToken"/> ends.
    /// </summary>
    Task<RegisterOutcome> RegisterAsync(MachineKey machineKey, RegisterRequestModel request, DateTimeOffset now, CancellationToken cancellationToken);
}

internal sealed class RegistrationService(DomainActors actors, NodeRegistrar registrar, IUserService users, Auditing.IAuditRecorder? audit = null) : IRegistrationService
{
    private readonly VerifiedSecrets _verifiedSecrets = new();

    private const string RegisterPath = "/register/";
    internal const int RegistrationIdLength = 24;
    internal const string IdAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

    /// <summary>The expiry a (re-)registered node gets: a future requested one, else now + node.expiry, else none.</summary>
    public static DateTimeOffset? EffectiveExpiry(DateTimeOffset? requested, DateTimeOffset now, TimeSpan nodeExpiry) =>
        requested is { } r && r > now ? r : nodeExpiry > TimeSpan.Zero ? now + nodeExpiry : null;

    public async Task<RegisterOutcome> RegisterAsync(MachineKey machineKey, RegisterRequestModel request, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var outcome = await DecideRegistrationAsync(machineKey, request, now, cancellationToken);
        var method = MetricMethod(request, now);
        Observability.HeadscaleMetrics.RecordRegistration(method, MetricResult(outcome));
        if (outcome.Error.Length > 0)
        {
            audit?.RegistrationRefused(machineKey.Value, method, outcome.Error);
        }

        return outcome;
    }

    /// <summary>The <c>method</c> label: what the client asked for, from a closed set.</summary>
    private static string MetricMethod(RegisterRequestModel request, DateTimeOffset now) =>
        request.Expiry is { } requested && requested < now ? "logout"
        : request.AuthKey.Length > 0 ? "preauthkey"
        : request.Followup.Length > 0 ? "followup"
        : "interactive";

    /// <summary>The <c>result</c> label: ok, logged_out, needs_auth or error.</summary>
    private static string MetricResult(RegisterOutcome outcome) =>
        outcome.Error.Length > 0 ? "error"
        : outcome.AuthUrl.Length > 0 ? "needs_auth"
        : outcome.NodeKeyExpired ? "logged_out"
        : "ok";

    private async Task<RegisterOutcome> DecideRegistrationAsync(MachineKey machineKey, RegisterRequestModel request, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (request.Expiry is { } requested && requested < now)
        {
            return await LogoutAsync(machineKey, request, requested, now, cancellationToken);
        }

        var known = await FindByNodeKeyAsync(request.NodeKey, cancellationToken);
        if (known is not null && known.MachineKey != machineKey)
        {
            return RegisterOutcome.Failed(Errors.NodeKeyOfOtherMachine, 401);
        }

        if (request.AuthKey.Length > 0)
        {
            return await RegisterWithKeyAsync(machineKey, request, known, now, cancellationToken);
        }

        if (known is not null)
        {
            if (await actors.NodeAsync<NodeCommandResult>(new NodeQueries.GetNode(known.Id), cancellationToken) is { Node: { } node })
            {
                return await RefreshAsync(node, request, now, cancellationToken);
            }

            // The node was deleted but its registry entry outlived it (the release is a fire-and-forget
            // tell): free the key so this machine can register again.
            await actors.RegistryAsync<NodeRegistryCommands.NodeRegistryResult>(
                new NodeRegistryCommands.ReleaseNode(known.Id, now, Cause.System("node no longer exists")), cancellationToken);
        }

        if (!request.OldNodeKey.IsZero && await TryRotateAsync(machineKey, request, now, cancellationToken) is { } rotated)
        {
            return rotated;
        }

        return request.Followup.Length > 0
            ? await FollowupAsync(machineKey, request, now, cancellationToken)
            : await StartInteractiveAsync(machineKey, request, now, cancellationToken);
    }

    private async Task<RegisterOutcome> LogoutAsync(
        MachineKey machineKey, RegisterRequestModel request, DateTimeOffset requested, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (await FindByNodeKeyAsync(request.NodeKey, cancellationToken) is not { } entry)
        {
            return RegisterOutcome.Failed(Errors.NodeNotFound);
        }

        if (entry.MachineKey != machineKey)
        {
            return RegisterOutcome.Failed(Errors.NodeKeyOfOtherMachine, 401);
        }

        var cause = Cause.Client(machineKey.Value);
        var result = entry.Ephemeral
            ? await actors.NodeAsync<NodeCommandResult>(new DeleteNode(entry.Id, now, cause), cancellationToken)
            : await actors.NodeAsync<NodeCommandResult>(new ExpireNode(entry.Id, requested, now, cause), cancellationToken);
        if (!result.Result.Succeeded)
        {
            return RegisterOutcome.Failed(result.Result.Message);
        }

        var login = await LoginOfAsync(entry.User, entry.Ephemeral ? [] : result.Node?.Tags ?? [], cancellationToken);
        return new RegisterOutcome(200, "", "", false, true, login, result.Node);
    }

    private async Task<RegisterOutcome> RefreshAsync(Node node, RegisterRequestModel request, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var login = await LoginOfAsync(node.User, node.Tags, cancellationToken);
        if (node.IsExpiredAt(now))
        {
            return new RegisterOutcome(200, "", "", false, true, login, node);
        }

        if (request.Expiry is { } wanted && wanted != node.Expiry)
        {
            // A client may shorten its key's life (SetExpirySooner), never lengthen it.
            if (node.Expiry is { } current && wanted > current)
            {
                return RegisterOutcome.Failed(Errors.ExtendingKeyNotAllowed, 400);
            }

            var expired = await actors.NodeAsync<NodeCommandResult>(
                new ExpireNode(node.Id, wanted, now, Cause.Client(node.MachineKey.Value)), cancellationToken);
            node = expired.Node ?? node;
        }

        return new RegisterOutcome(200, "", "", true, false, login, node);
    }

    private async Task<RegisterOutcome?> TryRotateAsync(MachineKey machineKey, RegisterRequestModel request, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (await FindByNodeKeyAsync(request.OldNodeKey, cancellationToken) is not { } old || old.MachineKey != machineKey)
        {
            return null;
        }

        var current = await actors.NodeAsync<NodeCommandResult>(new NodeQueries.GetNode(old.Id), cancellationToken);
        if (current.Node is not { } node || node.IsExpiredAt(now))
        {
            // An expired node must authenticate again; the caller falls through to the interactive flow.
            return null;
        }

        var cause = Cause.Client(machineKey.Value);
        var rebound = await actors.RegistryAsync<NodeRegistryCommands.NodeRegistryResult>(
            new NodeRegistryCommands.RebindNode(node.Id, request.NodeKey, node.Ephemeral, now, cause), cancellationToken);
        if (!rebound.Result.Succeeded)
        {
            return RegisterOutcome.Failed(rebound.Result.Message);
        }

        var rotated = await actors.NodeAsync<NodeCommandResult>(new RotateNodeKey(node.Id, request.OldNodeKey, request.NodeKey, now, cause), cancellationToken);
        if (!rotated.Result.Succeeded || rotated.Node is null)
        {
            await actors.RegistryAsync<NodeRegistryCommands.NodeRegistryResult>(
                new NodeRegistryCommands.RebindNode(node.Id, node.NodeKey, node.Ephemeral, now, Cause.System("key rotation failed")), CancellationToken.None);
            return RegisterOutcome.Failed(rotated.Result.Message);
        }

        return new RegisterOutcome(200, "", "", true, false, await LoginOfAsync(node.User, node.Tags, cancellationToken), rotated.Node);
    }

    private async Task<RegisterOutcome> RegisterWithKeyAsync(
        MachineKey machineKey, RegisterRequestModel request, NodeIndexEntry? known, DateTimeOffset now, CancellationToken cancellationToken)
    {
        if (!PreAuthKeyText.TryParse(request.AuthKey, out var prefix, out var secret, out var legacy))
        {
            return RegisterOutcome.Failed(Errors.InvalidPreAuthKey);
        }

        var found = await actors.KeysAsync<PreAuthKeyQueries.PreAuthKeyList>(new PreAuthKeyQueries.FindPreAuthKey(prefix, legacy), cancellationToken);
        if (found.Keys.FirstOrDefault() is not { } key || (!key.IsLegacy && !_verifiedSecrets.Verify(secret, key.Hash)))
        {
            return RegisterOutcome.Failed(Errors.InvalidPreAuthKey);
        }

        if (await users.GetAsync(key.User, cancellationToken) is null)
        {
            return RegisterOutcome.Failed(Errors.UserNotFound);
        }

        // The same machine re-running `up --authkey` with the node key it already has is not a new
        // use of the key (containers do this on every start), so the key is not checked again.
        var rerun = known is not null && known.User == key.User;
        if (!rerun)
        {
            if (key.IsExpiredAt(now))
            {
                return RegisterOutcome.Failed(Errors.PreAuthKeyExpired);
            }

            if (key.Used && !key.Reusable)
            {
                return RegisterOutcome.Failed(Errors.PreAuthKeyUsed);
            }
        }

        var cause = new Cause(CauseKind.PreAuthKey, key.Id.ToString());
        var spec = new NodeRegistrationSpec(
            machineKey, request.NodeKey, key.User, request.Hostname, EffectiveExpiry(request.Expiry, now, actors.Settings.NodeExpiry),
            key.Ephemeral, key.Tags, key.Id, RegisterMethod.AuthKey, now, cause);
        var result = await registrar.RegisterAsync(
            spec,
            rerun ? null : async ct => (await actors.KeysAsync<PreAuthKeyCommands.PreAuthKeyCommandResult>(new PreAuthKeyCommands.UsePreAuthKey(key.Id, now, cause), ct)).Result,
            rerun ? null : () => actors.KeysAsync<PreAuthKeyCommands.PreAuthKeyCommandResult>(
                new PreAuthKeyCommands.RevertPreAuthKeyUse(key.Id, now, Cause.System("registration failed")), CancellationToken.None),
            cancellationToken);
        return await SuccessOrErrorAsync(result, cancellationToken);
    }

    private async Task<RegisterOutcome> FollowupAsync(MachineKey machineKey, RegisterRequestModel request, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var id = RegistrationIdOf(request.Followup);
        if (id is null)
        {
            return await StartInteractiveAsync(machineKey, request, now, cancellationToken);
        }

        // Wait as long as the registration can live; the client's request ending cancels the wait.
        var verdict = await actors.PendingAsync<RegistrationVerdict>(
            new AwaitRegistration(id, machineKey), cancellationToken, actors.Settings.RegisterCacheExpiration + TimeSpan.FromMinutes(1));
        return verdict.Kind switch
        {
            RegistrationVerdictKind.Completed when verdict.Node is { } nodeId =>
                await SuccessOrErrorAsync(await actors.NodeAsync<NodeCommandResult>(new NodeQueries.GetNode(nodeId), cancellationToken), cancellationToken),
            RegistrationVerdictKind.Failed => RegisterOutcome.Failed(verdict.Error),
            _ => await StartInteractiveAsync(machineKey, request, now, cancellationToken),
        };
    }

    private async Task<RegisterOutcome> StartInteractiveAsync(MachineKey machineKey, RegisterRequestModel request, DateTimeOffset now, CancellationToken cancellationToken)
    {
        var id = RandomNumberGenerator.GetString(IdAlphabet, RegistrationIdLength);
        var pending = new PendingRegistration(id, machineKey, request.NodeKey, request.Hostname, request.Expiry, request.Ephemeral, now);
        var started = await actors.PendingAsync<CommandResult>(new StartRegistration(pending), cancellationToken);
        return started.Succeeded
            ? RegisterOutcome.NeedsAuth(actors.Settings.ServerUrl.ToString().TrimEnd('/') + RegisterPath + id)
            : RegisterOutcome.Failed(started.Message);
    }

    private async Task<RegisterOutcome> SuccessOrErrorAsync(NodeCommandResult result, CancellationToken cancellationToken)
    {
        if (!result.Result.Succeeded || result.Node is not { } node)
        {
            return RegisterOutcome.Failed(result.Result.Message.Length > 0 ? result.Result.Message : Errors.NodeNotFound);
        }

        return new RegisterOutcome(200, "", "", true, false, await LoginOfAsync(node.User, node.Tags, cancellationToken), node);
    }

    private async Task<RegisteredLogin> LoginOfAsync(UserId user, IReadOnlyCollection<string> tags, CancellationToken cancellationToken)
    {
        if (tags.Count > 0)
        {
            return RegisteredLogin.TaggedDevices;
        }

        var found = await users.GetAsync(user, cancellationToken);
        var name = found?.Name ?? user.ToString();
        return new RegisteredLogin((long)user.Value, name, found is { DisplayName.Length: > 0 } ? found.DisplayName : name);
    }

    private async Task<NodeIndexEntry?> FindByNodeKeyAsync(NodeKey key, CancellationToken cancellationToken) =>
        (await actors.RegistryAsync<NodeRegistryQueries.NodeIndexList>(new NodeRegistryQueries.FindByNodeKey(key), cancellationToken)).Entries.FirstOrDefault();

    /// <summary>The id at the end of an AuthURL (<c>…/register/{id}</c>), or null if it is not one of ours.</summary>
    internal static string? RegistrationIdOf(string followup)
    {
        var at = followup.LastIndexOf(RegisterPath, StringComparison.Ordinal);
        if (at < 0)
        {
            return null;
        }

        var id = followup[(at + RegisterPath.Length)..];
        return id.Length == RegistrationIdLength && id.All(c => IdAlphabet.Contains(c)) ? id : null;
    }
}
