using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using static Headscale.Actors.Identity.IdAllocatorCommands;
using static Headscale.Actors.Identity.IdAllocatorEvents;

namespace Headscale.Actors.Identity;

/// <summary>
/// The single writer of entity ids (a cluster singleton). It persists a reservation for a block of
/// ids and then hands ids out from memory, so an allocation costs a journal write only once per
/// <see cref="BlockSize"/> ids.
/// </summary>
public sealed class IdAllocatorActor : ReceivePersistentActor
{
    /// <summary>Persistence id; part of the stored schema.</summary>
    public const string PersistenceIdValue = "id-allocator";

    /// <summary>How many ids one reservation covers.</summary>
    public const ulong BlockSize = 64;

    private const int SnapshotEvery = 100;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly Dictionary<IdKind, ulong> _nextId = new();
    private IdAllocatorState _state = IdAllocatorState.Empty;

    public IdAllocatorActor()
    {
        Recover<IdsReserved>(e => _state = _state.Apply(e));
        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is IdAllocatorState state)
            {
                _state = state;
            }
        });

        Command<AllocateId>(Allocate);
        Command<SaveSnapshotSuccess>(s => DeleteSnapshots(new SnapshotSelectionCriteria(s.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(f => _log.Warning(f.Cause, "id allocator snapshot failed at {SequenceNr}", f.Metadata.SequenceNr));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => _log.Warning(f.Cause, "deleting old id allocator snapshots failed"));
    }

    public override string PersistenceId => PersistenceIdValue;

    private void Allocate(AllocateId command)
    {
        var kind = command.Kind;
        // Ids handed out in an earlier incarnation are at most ReservedFor(kind): start above it.
        var next = _nextId.TryGetValue(kind, out var n) ? n : _state.ReservedFor(kind) + 1;
        if (next <= _state.ReservedFor(kind))
        {
            _nextId[kind] = next + 1;
            Sender.Tell(new IdAllocated(kind, next));
            return;
        }

        var sender = Sender;
        Persist(new IdsReserved(kind, next + BlockSize - 1), e =>
        {
            _state = _state.Apply(e);
            _nextId[kind] = next + 1;
            sender.Tell(new IdAllocated(kind, next));
            if (LastSequenceNr % SnapshotEvery == 0)
            {
                SaveSnapshot(_state);
            }
        });
    }
}
