using System.Collections.Immutable;
using System.Text.Json.Serialization;
using Headscale.Actors.Auditing;
using Headscale.Actors.Serialization;

namespace Headscale.Actors.ApiKeys;

/// <summary>An API key as stored: the prefix in clear, the secret only as a bcrypt hash.</summary>
/// <param name="Expiration">Null means never set, which counts as expired (Headscale's rule).</param>
public sealed record ApiKeyRecord(
    ulong Id,
    string Prefix,
    string Hash,
    DateTimeOffset? Expiration,
    DateTimeOffset CreatedAt,
    DateTimeOffset? LastSeen) : IHeadscaleSerializable;

/// <summary>Commands and queries for the <see cref="ApiKeyDirectoryActor"/> singleton (via <see cref="IApiKeyDirectory"/>).</summary>
public static class ApiKeyCommands
{
    /// <summary>Stores a new key. Reply: <see cref="ApiKeyResult"/> (Conflict when the prefix is taken).</summary>
    public sealed record CreateApiKey(string Prefix, string Hash, DateTimeOffset Expiration, DateTimeOffset Now, Cause Cause) : IHeadscaleSerializable;

    /// <summary>Sets the expiration. Reply: <see cref="ApiKeyResult"/> (NotFound for an unknown prefix).</summary>
    public sealed record ExpireApiKey(string Prefix, DateTimeOffset Expiration, DateTimeOffset Now, Cause Cause) : IHeadscaleSerializable;

    /// <summary>Removes the key. Reply: <see cref="ApiKeyResult"/>.</summary>
    public sealed record DeleteApiKey(string Prefix, DateTimeOffset Now, Cause Cause) : IHeadscaleSerializable;

    /// <summary>Reply: <see cref="ApiKeyResult"/> with the key or NotFound.</summary>
    public sealed record GetApiKey(string Prefix) : IHeadscaleSerializable;

    /// <summary>Reply: <see cref="ApiKeyList"/>.</summary>
    public sealed record ListApiKeys : IHeadscaleSerializable
    {
        public static readonly ListApiKeys Instance = new();
    }

    public enum ApiKeyResultCode
    {
        Ok = 0,
        NotFound = 1,
        Conflict = 2,
        BadRequest = 3,
    }

    public sealed record ApiKeyResult(ApiKeyResultCode Code, ApiKeyRecord? Key, string Message) : IHeadscaleSerializable;

    public sealed record ApiKeyList(ImmutableArray<ApiKeyRecord> Keys) : IHeadscaleSerializable;
}

/// <summary>Events persisted by the <see cref="ApiKeyDirectoryActor"/>; each names its time and cause.</summary>
public static class ApiKeyEvents
{
    public sealed record ApiKeyCreated(ulong Id, string Prefix, string Hash, DateTimeOffset Expiration, DateTimeOffset At, Cause Cause) : IHeadscaleSerializable, IAuditEvent
    {
        [JsonIgnore] public string AuditKind => "apikey.created";
        [JsonIgnore] public string AuditSubject => "apikey:" + Prefix;
        [JsonIgnore] public string AuditDetail => $"API key {Prefix} created, expires {Expiration:O}";
    }

    public sealed record ApiKeyExpired(string Prefix, DateTimeOffset Expiration, DateTimeOffset At, Cause Cause) : IHeadscaleSerializable, IAuditEvent
    {
        [JsonIgnore] public string AuditKind => "apikey.expired";
        [JsonIgnore] public string AuditSubject => "apikey:" + Prefix;
        [JsonIgnore] public string AuditDetail => $"API key {Prefix} expires {Expiration:O}";
    }

    public sealed record ApiKeyDeleted(string Prefix, DateTimeOffset At, Cause Cause) : IHeadscaleSerializable, IAuditEvent
    {
        [JsonIgnore] public string AuditKind => "apikey.deleted";
        [JsonIgnore] public string AuditSubject => "apikey:" + Prefix;
        [JsonIgnore] public string AuditDetail => $"API key {Prefix} deleted";
    }
}
