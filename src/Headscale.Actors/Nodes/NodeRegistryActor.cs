using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using Headscale.Actors.Addressing;
using Headscale.Actors.Nodes.Messages;
using Headscale.Actors.Registration;
using static Headscale.Actors.Nodes.Messages.NodeRegistryCommands;
using static Headscale.Actors.Nodes.Messages.NodeRegistryQueries;

namespace Headscale.Actors.Nodes;

/// <summary>Registry key for the node registry singleton proxy.</summary>
public sealed class NodeRegistrySingleton;

/// <summary>
/// The one writer of everything about nodes that must be unique cluster-wide: node key → node,
/// machine key → nodes, addresses and given names (a persistent cluster singleton, decision 0500).
/// <para>
/// Registration storms all pass through here, so it persists with <c>PersistAllAsync</c>: the
/// decision is applied to the in-memory state at once (so the next command sees the reservation)
/// while the journal batches the writes; the sender is answered only from the persist callback.
/// If a write fails the actor stops and recovery rebuilds the state from what was stored, so
/// nobody was ever told about a reservation that is not in the journal.
/// </para>
/// </summary>
public sealed class NodeRegistryActor : ReceivePersistentActor
{
    /// <summary>Persistence id; part of the stored schema.</summary>
    public const string PersistenceIdValue = "node-registry";

    private const int SnapshotEvery = 1000;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly AddressingSettings _addressing;
    private readonly Random _random;
    private readonly IActorRef _nodes;
    private NodeRegistryState _state = NodeRegistryState.Empty;
    private int _pendingWrites;
    private int _sinceSnapshot;

    /// <param name="addressing">The tailnet prefixes and allocation strategy.</param>
    /// <param name="nodes">The node shard region, told to arm ephemeral cleanup after recovery.</param>
    /// <param name="random">Source for random allocation; tests pass a seeded one.</param>
    public NodeRegistryActor(AddressingSettings addressing, IActorRef nodes, Random? random = null)
    {
        _addressing = addressing;
        _nodes = nodes;
        _random = random ?? Random.Shared;

        Recover<INodeRegistryEvent>(e => _state = NodeRegistryState.Apply(_state, e));
        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is NodeRegistrySnapshot snapshot)
            {
                _state = NodeRegistryState.FromSnapshot(snapshot);
            }
        });
        Recover<RecoveryCompleted>(_ => ScheduleEphemeralCleanup());

        Command<INodeRegistryCommand>(Handle);
        Command<FindByMachineKey>(q => Sender.Tell(new NodeIndexList(_state.ByMachine(q.MachineKey))));
        Command<FindByNodeKey>(q => Sender.Tell(new NodeIndexList(_state.ByKey(q.NodeKey) is { } e ? [e] : [])));
        Command<ListIndex>(q => Sender.Tell(new NodeIndexList(q.Id is { } id
            ? _state.Nodes.TryGetValue(id, out var one) ? [one] : []
            : [.. _state.Nodes.Values.Where(n => q.User is null || n.User == q.User).OrderBy(n => n.Id.Value)])));
        Command<SaveSnapshotSuccess>(s => DeleteSnapshots(new SnapshotSelectionCriteria(s.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(f => _log.Warning(f.Cause, "node registry snapshot failed at {SequenceNr}", f.Metadata.SequenceNr));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => _log.Warning(f.Cause, "deleting old node registry snapshots failed"));
    }

    public override string PersistenceId => PersistenceIdValue;

    public static Props Props(AddressingSettings addressing, IActorRef nodes) =>
        Akka.Actor.Props.Create(() => new NodeRegistryActor(addressing, nodes, null));

    private void Handle(INodeRegistryCommand command)
    {
        var decision = NodeRegistryState.Decide(_state, command, _addressing, _random);
        var sender = Sender;
        if (decision.Events.Count == 0)
        {
            sender.Tell(new NodeRegistryResult(decision.Result, _state.Nodes.GetValueOrDefault(command.Id)));
            return;
        }

        foreach (var e in decision.Events)
        {
            _state = NodeRegistryState.Apply(_state, e);
        }

        var entry = _state.Nodes.GetValueOrDefault(command.Id);
        var remaining = decision.Events.Count;
        _pendingWrites += remaining;
        PersistAllAsync(decision.Events.Select(EventTags.Tag), _ =>
        {
            _pendingWrites--;
            _sinceSnapshot++;
            if (--remaining == 0)
            {
                sender.Tell(new NodeRegistryResult(decision.Result, entry));
            }

            // Only a state with no write in flight equals the journal up to LastSequenceNr.
            if (_pendingWrites == 0 && _sinceSnapshot >= SnapshotEvery)
            {
                _sinceSnapshot = 0;
                SaveSnapshot(_state.ToSnapshot());
            }
        });
    }

    private void ScheduleEphemeralCleanup()
    {
        // Ephemeral nodes that were connected when the cluster stopped get their inactivity timer
        // again; a node that reconnects cancels it.
        var count = 0;
        foreach (var entry in _state.Nodes.Values.Where(n => n.Ephemeral))
        {
            _nodes.Tell(new NodeCommands.NodeDisconnected(entry.Id, DateTimeOffset.UtcNow));
            count++;
        }

        _log.Info("node registry recovered {NodeCount} nodes; {EphemeralCount} ephemeral nodes scheduled for cleanup", _state.Nodes.Count, count);
    }
}
