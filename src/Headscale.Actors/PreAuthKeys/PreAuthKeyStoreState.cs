using System.Collections.Immutable;
using Headscale.Actors.PreAuthKeys.Messages;
using static Headscale.Actors.PreAuthKeys.Messages.PreAuthKeyCommands;
using static Headscale.Actors.PreAuthKeys.Messages.PreAuthKeyEvents;

namespace Headscale.Actors.PreAuthKeys;

/// <summary>Every pre-auth key with its lookup indexes. Pure <see cref="Decide"/> and <see cref="Apply"/>.</summary>
public sealed record PreAuthKeyStoreState(
    ImmutableDictionary<PreAuthKeyId, PreAuthKey> Keys,
    ImmutableDictionary<string, PreAuthKeyId> ByLookup)
{
    public static readonly PreAuthKeyStoreState Empty = new(
        ImmutableDictionary<PreAuthKeyId, PreAuthKey>.Empty,
        ImmutableDictionary<string, PreAuthKeyId>.Empty.WithComparers(StringComparer.Ordinal));

    public PreAuthKey? Find(string prefix, string legacyKey)
    {
        var lookup = prefix.Length > 0 ? PrefixLookup(prefix) : LegacyLookup(legacyKey);
        return ByLookup.TryGetValue(lookup, out var id) ? Keys[id] : null;
    }

    public static Decision<IPreAuthKeyEvent> Decide(PreAuthKeyStoreState state, IPreAuthKeyCommand command)
    {
        if (command is CreatePreAuthKey create)
        {
            return DecideCreate(state, create);
        }

        if (!state.Keys.TryGetValue(command.Id, out var key))
        {
            return Decision<IPreAuthKeyEvent>.Reject(ResultCode.NotFound, Errors.InvalidPreAuthKey);
        }

        return command switch
        {
            ExpirePreAuthKey c => key.IsExpiredAt(c.Now)
                ? Decision<IPreAuthKeyEvent>.NoOp()
                : Decision<IPreAuthKeyEvent>.Accept(new PreAuthKeyExpired(c.Id, c.Now, c.Cause)),
            UsePreAuthKey c => DecideUse(key, c),
            RevertPreAuthKeyUse c => key.Used
                ? Decision<IPreAuthKeyEvent>.Accept(new PreAuthKeyUseReverted(c.Id, c.Now, c.Cause))
                : Decision<IPreAuthKeyEvent>.NoOp(),
            DeletePreAuthKey c => Decision<IPreAuthKeyEvent>.Accept(new PreAuthKeyDeleted(c.Id, c.Now, c.Cause)),
            _ => throw new ArgumentOutOfRangeException(nameof(command), command.GetType().Name, "unknown pre-auth key command"),
        };
    }

    public static PreAuthKeyStoreState Apply(PreAuthKeyStoreState state, IPreAuthKeyEvent e) => e switch
    {
        PreAuthKeyCreated c => new PreAuthKeyStoreState(
            state.Keys.SetItem(c.Id, new PreAuthKey(c.Id, c.User, c.Prefix, c.Hash, c.LegacyKey, c.Reusable, c.Ephemeral, false, c.Expiration, c.At, c.Tags)),
            state.ByLookup.SetItem(c.Prefix.Length > 0 ? PrefixLookup(c.Prefix) : LegacyLookup(c.LegacyKey), c.Id)),
        PreAuthKeyExpired x => state.Update(x.Id, k => k with { Expiration = x.At }),
        PreAuthKeyUsed u => state.Update(u.Id, k => k with { Used = true }),
        PreAuthKeyUseReverted r => state.Update(r.Id, k => k with { Used = false }),
        PreAuthKeyDeleted d => new PreAuthKeyStoreState(
            state.Keys.Remove(d.Id),
            state.ByLookup.Remove(LookupOf(state.Keys[d.Id]))),
        _ => throw new ArgumentOutOfRangeException(nameof(e), e.GetType().Name, "unknown pre-auth key event"),
    };

    /// <summary>Checks key tags as Headscale does: <c>tag:</c> prefix, lower case, no white space.</summary>
    public static string? ValidateTags(IEnumerable<string> tags)
    {
        foreach (var tag in tags)
        {
            if (!tag.StartsWith("tag:", StringComparison.Ordinal) || tag.Length == 4)
            {
                return $"tag '{tag}' must start with 'tag:' and have a name";
            }

            if (tag.Any(c => char.IsWhiteSpace(c) || char.IsUpper(c)))
            {
                return $"tag '{tag}' must be lower case without white space";
            }
        }

        return null;
    }

    private static string PrefixLookup(string prefix) => "p:" + prefix;

    private static string LegacyLookup(string legacy) => "l:" + legacy;

    private static string LookupOf(PreAuthKey key) => key.IsLegacy ? LegacyLookup(key.LegacyKey) : PrefixLookup(key.Prefix);

    private PreAuthKeyStoreState Update(PreAuthKeyId id, Func<PreAuthKey, PreAuthKey> change) =>
        this with { Keys = Keys.SetItem(id, change(Keys[id])) };

    private static Decision<IPreAuthKeyEvent> DecideCreate(PreAuthKeyStoreState state, CreatePreAuthKey c)
    {
        if (state.Keys.ContainsKey(c.Id))
        {
            return Decision<IPreAuthKeyEvent>.NoOp();
        }

        var hasNewForm = c.Prefix.Length > 0 && c.Hash.Length > 0;
        if (hasNewForm == (c.LegacyKey.Length > 0))
        {
            return Decision<IPreAuthKeyEvent>.Reject(ResultCode.BadRequest, "a key has either a prefix and hash or a legacy plaintext");
        }

        if (ValidateTags(c.Tags) is { } problem)
        {
            return Decision<IPreAuthKeyEvent>.Reject(ResultCode.BadRequest, problem);
        }

        if (state.Find(c.Prefix, c.LegacyKey) is not null)
        {
            return Decision<IPreAuthKeyEvent>.Reject(ResultCode.Conflict, "a key with this prefix exists");
        }

        return Decision<IPreAuthKeyEvent>.Accept(new PreAuthKeyCreated(
            c.Id, c.User, c.Prefix, c.Hash, c.LegacyKey, c.Reusable, c.Ephemeral, c.Expiration, c.Tags, c.Now, c.Cause));
    }

    private static Decision<IPreAuthKeyEvent> DecideUse(PreAuthKey key, UsePreAuthKey c)
    {
        if (key.IsExpiredAt(c.Now))
        {
            return Decision<IPreAuthKeyEvent>.Reject(ResultCode.Expired, Errors.PreAuthKeyExpired);
        }

        if (key.Reusable)
        {
            // Reusable keys are never marked used; the node's own event records which key it came with.
            return Decision<IPreAuthKeyEvent>.Accept();
        }

        return key.Used
            ? Decision<IPreAuthKeyEvent>.Reject(ResultCode.Conflict, Errors.PreAuthKeyUsed)
            : Decision<IPreAuthKeyEvent>.Accept(new PreAuthKeyUsed(c.Id, c.Now, c.Cause));
    }
}
