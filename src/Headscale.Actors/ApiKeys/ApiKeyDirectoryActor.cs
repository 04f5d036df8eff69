using Akka.Actor;
using Akka.Event;
using Akka.Persistence;
using static Headscale.Actors.ApiKeys.ApiKeyCommands;

namespace Headscale.Actors.ApiKeys;

/// <summary>
/// The single writer of API keys (a cluster singleton). Keys are few and read on every remote
/// management call, so one persistent actor holding all of them is simpler and faster than an
/// entity per key with an index beside it.
/// </summary>
public sealed class ApiKeyDirectoryActor : ReceivePersistentActor
{
    public const string PersistenceIdValue = "api-keys";

    private const int SnapshotEvery = 200;

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private ApiKeyState _state = ApiKeyState.Empty;

    public ApiKeyDirectoryActor()
    {
        Recover<SnapshotOffer>(offer =>
        {
            if (offer.Snapshot is ApiKeyState state)
            {
                _state = state;
            }
        });
        Recover<ApiKeyEvents.ApiKeyCreated>(e => _state = _state.Apply(e));
        Recover<ApiKeyEvents.ApiKeyExpired>(e => _state = _state.Apply(e));
        Recover<ApiKeyEvents.ApiKeyDeleted>(e => _state = _state.Apply(e));

        Command<CreateApiKey>(Handle);
        Command<ExpireApiKey>(Handle);
        Command<DeleteApiKey>(Handle);
        Command<GetApiKey>(q => Sender.Tell(_state.Keys.TryGetValue(q.Prefix, out var key)
            ? new ApiKeyResult(ApiKeyResultCode.Ok, key, "")
            : new ApiKeyResult(ApiKeyResultCode.NotFound, null, $"API key with prefix {q.Prefix} not found")));
        Command<ListApiKeys>(_ => Sender.Tell(new ApiKeyList([.. _state.Keys.Values.OrderBy(k => k.Id)])));
        Command<SaveSnapshotSuccess>(s => DeleteSnapshots(new SnapshotSelectionCriteria(s.Metadata.SequenceNr - 1)));
        Command<SaveSnapshotFailure>(f => _log.Warning(f.Cause, "API key snapshot failed at {SequenceNr}", f.Metadata.SequenceNr));
        Command<DeleteSnapshotsSuccess>(_ => { });
        Command<DeleteSnapshotsFailure>(f => _log.Warning(f.Cause, "deleting old API key snapshots failed"));
    }

    public override string PersistenceId => PersistenceIdValue;

    private void Handle(object command)
    {
        var (result, e) = _state.Decide(command);
        if (e is null)
        {
            Sender.Tell(result);
            return;
        }

        var sender = Sender;
        Persist(e, persisted =>
        {
            var before = _state;
            _state = _state.Apply(persisted);
            sender.Tell(result with { Key = _state.KeyAfter(persisted, before) });
            if (LastSequenceNr % SnapshotEvery == 0)
            {
                SaveSnapshot(_state);
            }
        });
    }
}
