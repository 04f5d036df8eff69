using System.Globalization;
using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Headscale.Actors.Nodes.Messages;
using Headscale.Actors.Registration;
using static Headscale.Actors.Nodes.Messages.NodeCommands;
using static Headscale.Actors.Nodes.Messages.NodeEvents;

namespace Headscale.Actors.Nodes;

/// <summary>
/// One node (sharded entity <c>node-{id}</c>): its journal is the node's audit log. Commands are
/// decided by <see cref="NodeState.Decide"/>, persisted, applied, then answered. It also owns the
/// ephemeral inactivity timer: armed on <see cref="NodeDisconnected"/>, cancelled on
/// <see cref="NodeConnected"/>, and on expiry the node deletes itself and releases its registry entry.
/// After every stored event it publishes its new state (<see cref="NodeNotifications.NodeChanged"/>)
/// for the network map feeds of all hosts.
/// </summary>
public sealed class NodeActor : ReceivePersistentActor, IWithTimers
{
    /// <summary>Persistence id prefix; part of the stored schema.</summary>
    public const string PersistenceIdPrefix = "node-";

    private const string EphemeralTimerKey = "ephemeral-cleanup";

    private readonly string _entityId;
    private readonly Akka.Hosting.IActorRegistry _actors;
    private readonly TimeSpan _ephemeralTimeout;
    private NodeState _state = NodeState.Unregistered;

    // Made on first use: most of these actors never log, and a logger holds its own copy of the actor's path.
    private ILoggingAdapter? _logger;

    private ILoggingAdapter Logger => _logger ??= Context.GetLogger();

    public NodeActor(string entityId, Akka.Hosting.IActorRegistry actors, TimeSpan ephemeralTimeout)
    {
        _entityId = entityId;
        _actors = actors;
        _ephemeralTimeout = ephemeralTimeout;

        Recover<INodeEvent>(e => _state = NodeState.Apply(_state, e));
        // Journals that keep the tag wrapper (the in-memory one) replay it as written.
        Recover<Akka.Persistence.Journal.Tagged>(t => _state = NodeState.Apply(_state, (INodeEvent)t.Payload));
        Command<INodeCommand>(command => Handle(command, Sender));
        Command<NodeQueries.GetNode>(_ => Sender.Tell(_state.Node is { } node
            ? new NodeCommandResult(CommandResult.Ok, node)
            : new NodeCommandResult(CommandResult.Fail(ResultCode.NotFound, Errors.NodeNotFound), null)));
        Command<NodeQueries.GetNodeVersion>(q => Sender.Tell(new NodeNotifications.NodeChanged(q.Id, LastSequenceNr, _state.Node)));
        Command<NodeConnected>(_ => Timers.Cancel(EphemeralTimerKey));
        Command<NodeDisconnected>(OnDisconnected);
        Command<EphemeralTimeout>(_ => OnEphemeralTimeout());
    }

    public override string PersistenceId => PersistenceIdPrefix + _entityId;

    public ITimerScheduler Timers { get; set; } = null!;

    /// <param name="actors">Where the node registry proxy is found (resolved when needed: the registry starts after the shard region).</param>
    /// <remarks>In a compact mailbox (<see cref="Dispatch.CompactMailboxes"/>, defined by <c>WithNodeEntities</c>): one per node, nearly always idle.</remarks>
    public static Props Props(string entityId, Akka.Hosting.IActorRegistry actors, TimeSpan ephemeralTimeout) =>
        Akka.Actor.Props.Create(() => new NodeActor(entityId, actors, ephemeralTimeout)).WithMailbox(Dispatch.CompactMailboxes.Deque);

    private void Handle(INodeCommand command, IActorRef replyTo)
    {
        var decision = NodeState.Decide(_state, command);
        if (decision.Events.Count == 0)
        {
            replyTo.Tell(new NodeCommandResult(decision.Result, _state.Node));
            return;
        }

        var remaining = decision.Events.Count;
        PersistAll(decision.Events.Select(EventTags.Tag), persisted =>
        {
            var e = (INodeEvent)EventTags.Untag(persisted);
            _state = NodeState.Apply(_state, e);
            Publish(e.Id);
            if (e is NodeDeleted deleted)
            {
                Timers.Cancel(EphemeralTimerKey);
                // The registry release is idempotent; if it is lost, the next lookup of this id finds NotFound here.
                _actors.Get<NodeRegistrySingleton>().Tell(new NodeRegistryCommands.ReleaseNode(deleted.Id, deleted.At, deleted.Cause));
            }

            if (--remaining == 0)
            {
                replyTo.Tell(new NodeCommandResult(decision.Result, _state.Node));
            }
        });
    }

    private void OnDisconnected(NodeDisconnected message)
    {
        if (_state.Node is not { } node)
        {
            return;
        }

        Persist(EventTags.Tag(new NodeLastSeen(node.Id, message.Now, Cause.System("disconnected"))), persisted =>
        {
            _state = NodeState.Apply(_state, (INodeEvent)EventTags.Untag(persisted));
            Publish(node.Id);
        });
        if (node.Ephemeral)
        {
            Timers.StartSingleTimer(EphemeralTimerKey, new EphemeralTimeout(message.Now), _ephemeralTimeout);
        }
    }

    /// <summary>
    /// Tells every host's network map feed the node's new state (decision 0007). Called only after the
    /// event is stored; the version lets receivers ignore a copy older than what they hold.
    /// </summary>
    private void Publish(NodeId id) =>
        ClusterNotifications.Publish(Context.System, NodeNotifications.Topic, new NodeNotifications.NodeChanged(id, LastSequenceNr, _state.Node));

    private void OnEphemeralTimeout()
    {
        if (_state.Node is not { Ephemeral: true } node)
        {
            return;
        }

        var now = DateTimeOffset.UtcNow;
        Logger.Info("deleting ephemeral node {NodeId} after {Timeout} without a connection", node.Id, _ephemeralTimeout);
        var timeout = _ephemeralTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture);
        Handle(new DeleteNode(node.Id, now, Cause.System($"ephemeral node inactive for {timeout}s")), ActorRefs.Nobody);
    }

    /// <summary>Timer tick: the ephemeral inactivity timeout elapsed.</summary>
    private sealed record EphemeralTimeout(DateTimeOffset DisconnectedAt) : INoSerializationVerificationNeeded, IDeadLetterSuppression, INotInfluenceReceiveTimeout;
}
