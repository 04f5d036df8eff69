using System.Text.Json.Serialization;
using Headscale.Actors.Auditing;
using Headscale.Actors.Serialization;

namespace Headscale.Actors.Policy;

/// <summary>Commands and queries for the <see cref="PolicyActor"/> singleton (database policy mode).</summary>
public static class PolicyCommands
{
    /// <summary>
    /// Replaces the policy after validating it fully. Reply: <see cref="PolicyResult"/>; on a
    /// validation error nothing is stored and the previous policy stays in force.
    /// </summary>
    public sealed record SetPolicy(string Text, DateTimeOffset Now, Cause Cause) : IHeadscaleSerializable;

    /// <summary>Reply: <see cref="PolicyResult"/> with the current policy, or NotFound when none was ever set.</summary>
    public sealed record GetPolicy : IHeadscaleSerializable
    {
        public static readonly GetPolicy Instance = new();
    }

    public enum PolicyResultCode
    {
        Ok = 0,
        NotFound = 1,
        Invalid = 2,
    }

    public sealed record PolicyResult(PolicyResultCode Code, string Text, DateTimeOffset? UpdatedAt, long Version, string Message) : IHeadscaleSerializable;
}

/// <summary>Events persisted by the <see cref="PolicyActor"/>. Every version is kept (history).</summary>
public static class PolicyEvents
{
    public sealed record PolicyChanged(long Version, string Text, DateTimeOffset At, Cause Cause) : IHeadscaleSerializable, IAuditEvent
    {
        [JsonIgnore] public string AuditKind => "policy.changed";
        [JsonIgnore] public string AuditSubject => "policy";
        [JsonIgnore] public string AuditDetail => $"policy version {Version} ({System.Text.Encoding.UTF8.GetByteCount(Text)} bytes)";
    }
}

/// <summary>What the policy singleton tells the cluster after it stored a new policy.</summary>
public static class PolicyNotifications
{
    /// <summary>DistributedPubSub topic every host's network map feed subscribes to (decision 0007).</summary>
    public const string Topic = "policy-changes";

    /// <summary>Version <paramref name="Version"/> of the database-mode policy, already validated. Published by <see cref="PolicyActor"/>.</summary>
    public sealed record PolicyTextChanged(long Version, string Text) : IHeadscaleSerializable;
}

/// <summary>The current policy text and its version (0 = none yet).</summary>
public sealed record PolicyState(long Version, string Text, DateTimeOffset? UpdatedAt) : IHeadscaleSerializable
{
    public static readonly PolicyState Empty = new(0, "", null);

    public PolicyState Apply(PolicyEvents.PolicyChanged e) => new(e.Version, e.Text, e.At);
}

/// <summary>Checks a policy text completely (parse and semantic validation); returns the error or null.</summary>
public interface IPolicyValidator
{
    string? Validate(string text);
}
