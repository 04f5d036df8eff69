using Headscale.Actors.Nodes;
using Headscale.Actors.Serialization;

namespace Headscale.Actors.Registration.Messages;

/// <summary>An interactive registration waiting for approval (held in memory only, for the configured TTL).</summary>
public sealed record PendingRegistration(
    string RegistrationId,
    MachineKey MachineKey,
    NodeKey NodeKey,
    string Hostname,
    DateTimeOffset? RequestedExpiry,
    bool Ephemeral,
    DateTimeOffset CreatedAt) : IHeadscaleSerializable
{
    /// <summary>Routes the node announces once registered (set by <c>DebugCreateNode</c>; real clients report theirs in Hostinfo).</summary>
    public System.Collections.Immutable.ImmutableArray<string> AnnouncedRoutes { get; init => field = value.IsDefault ? [] : value; } = [];
}

/// <summary>How an interactive registration ended, as a waiting follow-up request learns it.</summary>
public enum RegistrationVerdictKind
{
    /// <summary>Approved: the node exists.</summary>
    Completed = 1,

    /// <summary>Approval was attempted and failed; <c>Error</c> says why.</summary>
    Failed = 2,

    /// <summary>No such registration (never started, expired, or of another machine).</summary>
    Missing = 3,
}

/// <summary>Messages of the pending-registration singleton (not persisted; see decision 0500).</summary>
public static class PendingRegistrationCommands
{
    /// <summary>Holds a registration for the TTL. Replied to with <see cref="CommandResult"/> (Conflict if the id exists).</summary>
    public sealed record StartRegistration(PendingRegistration Registration) : IHeadscaleSerializable;

    /// <summary>
    /// A follow-up long-poll: replied to with <see cref="RegistrationVerdict"/> once the registration is
    /// approved or fails, at once with Missing if unknown or of another machine key.
    /// </summary>
    public sealed record AwaitRegistration(string RegistrationId, MachineKey MachineKey) : IHeadscaleSerializable;

    /// <summary>
    /// Approval begins: hands out the registration exactly once (Conflict while another approval
    /// runs, NotFound when unknown). Replied to with <see cref="ClaimResult"/>.
    /// </summary>
    public sealed record ClaimRegistration(string RegistrationId) : IHeadscaleSerializable;

    /// <summary>Reads a registration without claiming it (the register page). Replied to with <see cref="ClaimResult"/>.</summary>
    public sealed record PeekRegistration(string RegistrationId) : IHeadscaleSerializable;

    /// <summary>Approval ended: releases waiters with the outcome and forgets the registration. Replied to with <see cref="CommandResult"/>.</summary>
    public sealed record FinishRegistration(string RegistrationId, NodeId? Node, string Error) : IHeadscaleSerializable;

    public sealed record ClaimResult(CommandResult Result, PendingRegistration? Registration) : IHeadscaleSerializable;

    public sealed record RegistrationVerdict(string RegistrationId, RegistrationVerdictKind Kind, NodeId? Node, string Error) : IHeadscaleSerializable;
}
