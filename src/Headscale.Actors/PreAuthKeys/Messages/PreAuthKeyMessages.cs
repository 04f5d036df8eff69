using System.Collections.Immutable;
using Headscale.Actors.Serialization;
using Headscale.Actors.Users;

namespace Headscale.Actors.PreAuthKeys.Messages;

/// <summary>
/// A pre-auth key as stored. New keys (0.28 form) keep <see cref="Prefix"/> and a bcrypt
/// <see cref="Hash"/> of the secret; imported 0.27 keys keep the plaintext in <see cref="LegacyKey"/>.
/// </summary>
public sealed record PreAuthKey(
    PreAuthKeyId Id,
    UserId User,
    string Prefix,
    string Hash,
    string LegacyKey,
    bool Reusable,
    bool Ephemeral,
    bool Used,
    DateTimeOffset Expiration,
    DateTimeOffset CreatedAt,
    ImmutableArray<string> Tags) : IHeadscaleSerializable
{
    public bool IsLegacy => LegacyKey.Length > 0;

    public bool IsExpiredAt(DateTimeOffset now) => now >= Expiration;
}

/// <summary>Marker for commands to the pre-auth key store; each is answered with <see cref="PreAuthKeyCommands.PreAuthKeyCommandResult"/>.</summary>
public interface IPreAuthKeyCommand : IHeadscaleSerializable
{
    PreAuthKeyId Id { get; }
}

/// <summary>Marker for events the pre-auth key store persists.</summary>
public interface IPreAuthKeyEvent : IHeadscaleSerializable
{
    PreAuthKeyId Id { get; }

    DateTimeOffset At { get; }

    Cause Cause { get; }
}

/// <summary>Commands to the pre-auth key store (sent by <see cref="IPreAuthKeyService"/> and the registration flow).</summary>
public static class PreAuthKeyCommands
{
    /// <summary>Stores a new key. Either <paramref name="Prefix"/>+<paramref name="Hash"/> or <paramref name="LegacyKey"/> is set.</summary>
    public sealed record CreatePreAuthKey(
        PreAuthKeyId Id,
        UserId User,
        string Prefix,
        string Hash,
        string LegacyKey,
        bool Reusable,
        bool Ephemeral,
        DateTimeOffset Expiration,
        ImmutableArray<string> Tags,
        DateTimeOffset Now,
        Cause Cause) : IPreAuthKeyCommand;

    /// <summary>Sets the expiration to now. NoOp if already expired.</summary>
    public sealed record ExpirePreAuthKey(PreAuthKeyId Id, DateTimeOffset Now, Cause Cause) : IPreAuthKeyCommand;

    /// <summary>
    /// Uses the key for a registration: Expired, Conflict (single-use key already used) or Ok.
    /// The store is the one writer, so a single-use key is used exactly once cluster-wide.
    /// </summary>
    public sealed record UsePreAuthKey(PreAuthKeyId Id, DateTimeOffset Now, Cause Cause) : IPreAuthKeyCommand;

    /// <summary>Undoes a use whose registration could not be completed (compensation; NoOp for reusable keys).</summary>
    public sealed record RevertPreAuthKeyUse(PreAuthKeyId Id, DateTimeOffset Now, Cause Cause) : IPreAuthKeyCommand;

    /// <summary>Deletes the key (when its user is deleted).</summary>
    public sealed record DeletePreAuthKey(PreAuthKeyId Id, DateTimeOffset Now, Cause Cause) : IPreAuthKeyCommand;

    public sealed record PreAuthKeyCommandResult(CommandResult Result, PreAuthKey? Key) : IHeadscaleSerializable;
}

/// <summary>Events persisted by the pre-auth key store.</summary>
public static class PreAuthKeyEvents
{
    public sealed record PreAuthKeyCreated(
        PreAuthKeyId Id,
        UserId User,
        string Prefix,
        string Hash,
        string LegacyKey,
        bool Reusable,
        bool Ephemeral,
        DateTimeOffset Expiration,
        ImmutableArray<string> Tags,
        DateTimeOffset At,
        Cause Cause) : IPreAuthKeyEvent;

    public sealed record PreAuthKeyExpired(PreAuthKeyId Id, DateTimeOffset At, Cause Cause) : IPreAuthKeyEvent;

    public sealed record PreAuthKeyUsed(PreAuthKeyId Id, DateTimeOffset At, Cause Cause) : IPreAuthKeyEvent;

    public sealed record PreAuthKeyUseReverted(PreAuthKeyId Id, DateTimeOffset At, Cause Cause) : IPreAuthKeyEvent;

    public sealed record PreAuthKeyDeleted(PreAuthKeyId Id, DateTimeOffset At, Cause Cause) : IPreAuthKeyEvent;
}

/// <summary>Queries to the pre-auth key store.</summary>
public static class PreAuthKeyQueries
{
    /// <summary>Finds a key by its 0.28 prefix or its full 0.27 plaintext. Replied to with <see cref="PreAuthKeyList"/>.</summary>
    public sealed record FindPreAuthKey(string Prefix, string LegacyKey) : IHeadscaleSerializable;

    /// <summary>Keys of one user, or of all users when <paramref name="User"/> is null. Replied to with <see cref="PreAuthKeyList"/>.</summary>
    public sealed record ListPreAuthKeys(UserId? User) : IHeadscaleSerializable;

    public sealed record PreAuthKeyList(ImmutableArray<PreAuthKey> Keys) : IHeadscaleSerializable;
}
