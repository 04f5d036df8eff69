using Akka.Persistence.Journal;
using Headscale.Actors.Nodes.Messages;
using Headscale.Actors.PreAuthKeys.Messages;
using Headscale.Actors.Users.Messages;

namespace Headscale.Actors.Registration;

/// <summary>
/// Journal tags of the node lifecycle, so read models (the network map, list views, the audit log)
/// follow the changes with persistence queries instead of asking every entity. Part of the stored schema.
/// </summary>
public static class EventTags
{
    /// <summary>Node entity and node registry events.</summary>
    public const string NodeChanged = "node-changed";

    public const string UserChanged = "user-changed";

    public const string PreAuthKeyChanged = "preauthkey-changed";

    /// <summary>Wraps an event with its tag for the journal; replay yields the bare event.</summary>
    public static object Tag(object e) => e switch
    {
        INodeEvent or INodeRegistryEvent => new Tagged(e, [NodeChanged]),
        IUserEvent => new Tagged(e, [UserChanged]),
        IPreAuthKeyEvent => new Tagged(e, [PreAuthKeyChanged]),
        _ => e,
    };

    /// <summary>The event inside a persist callback's argument.</summary>
    public static object Untag(object persisted) => persisted is Tagged tagged ? tagged.Payload : persisted;
}
