using System.Collections.Immutable;
using static Headscale.Actors.ApiKeys.ApiKeyCommands;
using static Headscale.Actors.ApiKeys.ApiKeyEvents;

namespace Headscale.Actors.ApiKeys;

/// <summary>Every API key by prefix, with the pure decision and application functions.</summary>
public sealed record ApiKeyState(ImmutableDictionary<string, ApiKeyRecord> Keys, ulong LastId)
    : Serialization.IHeadscaleSerializable
{
    public static readonly ApiKeyState Empty = new(ImmutableDictionary<string, ApiKeyRecord>.Empty, 0);

    public (ApiKeyResult Result, object? Event) Decide(object command) => command switch
    {
        CreateApiKey c when string.IsNullOrWhiteSpace(c.Prefix) || string.IsNullOrWhiteSpace(c.Hash)
            => (new ApiKeyResult(ApiKeyResultCode.BadRequest, null, "prefix and hash are required"), null),
        CreateApiKey c when Keys.ContainsKey(c.Prefix)
            => (new ApiKeyResult(ApiKeyResultCode.Conflict, null, $"an API key with prefix {c.Prefix} exists"), null),
        CreateApiKey c => Accept(new ApiKeyCreated(LastId + 1, c.Prefix, c.Hash, c.Expiration, c.Now, c.Cause)),
        ExpireApiKey c when !Keys.ContainsKey(c.Prefix) => NotFound(c.Prefix),
        ExpireApiKey c => Accept(new ApiKeyExpired(c.Prefix, c.Expiration, c.Now, c.Cause)),
        DeleteApiKey c when !Keys.ContainsKey(c.Prefix) => NotFound(c.Prefix),
        DeleteApiKey c => Accept(new ApiKeyDeleted(c.Prefix, c.Now, c.Cause)),
        _ => throw new ArgumentException($"not an API key command: {command.GetType().Name}", nameof(command)),
    };

    public ApiKeyState Apply(object e) => e switch
    {
        ApiKeyCreated c => this with
        {
            Keys = Keys.SetItem(c.Prefix, new ApiKeyRecord(c.Id, c.Prefix, c.Hash, c.Expiration, c.At, null)),
            LastId = Math.Max(LastId, c.Id),
        },
        ApiKeyExpired x => this with { Keys = Keys.SetItem(x.Prefix, Keys[x.Prefix] with { Expiration = x.Expiration }) },
        ApiKeyDeleted d => this with { Keys = Keys.Remove(d.Prefix) },
        _ => throw new ArgumentException($"not an API key event: {e.GetType().Name}", nameof(e)),
    };

    /// <summary>The key an event leaves behind (for the reply), computed on the state after the event.</summary>
    public ApiKeyRecord? KeyAfter(object e, ApiKeyState before) => e switch
    {
        ApiKeyDeleted d => before.Keys.GetValueOrDefault(d.Prefix),
        ApiKeyCreated c => Keys[c.Prefix],
        ApiKeyExpired x => Keys[x.Prefix],
        _ => null,
    };

    private static (ApiKeyResult, object?) Accept(object e) => (new ApiKeyResult(ApiKeyResultCode.Ok, null, ""), e);

    private static (ApiKeyResult, object?) NotFound(string prefix) =>
        (new ApiKeyResult(ApiKeyResultCode.NotFound, null, $"API key with prefix {prefix} not found"), null);
}
