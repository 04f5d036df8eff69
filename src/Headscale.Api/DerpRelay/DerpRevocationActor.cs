using Akka.Actor;
using Akka.Cluster.Tools.PublishSubscribe;
using Akka.Event;
using Headscale.Actors.Nodes.Messages;
using Headscale.Derp.Server;

namespace Headscale.Api.DerpRelay;

/// <summary>
/// Keeps <c>verify_clients</c> true for connected DERP clients on this host. It follows the node change feed
/// (topic <see cref="NodeNotifications.Topic"/>, decision 0007) and hands each node state to the verifier, which revokes
/// the keys a deletion, key rotation, expiry or logout invalidated. Every <see cref="ExpiryCheckInterval"/> it revokes
/// keys whose expiry time has passed (no event marks that moment), and every <c>reverifyInterval</c> it re-checks every
/// connected client against the registry, repairing a notification DistributedPubSub lost between hosts.
/// </summary>
public sealed class DerpRevocationActor : ReceiveActor, IWithTimers
{
    public static readonly TimeSpan ExpiryCheckInterval = TimeSpan.FromSeconds(1);

    private readonly ILoggingAdapter _log = Context.GetLogger();
    private readonly NodeRegistryDerpVerifier _verifier;
    private readonly DerpServer _server;
    private readonly TimeSpan _reverifyInterval;
    private readonly TimeProvider _clock;
    private bool _reverifying;

    public DerpRevocationActor(NodeRegistryDerpVerifier verifier, DerpServer server, TimeProvider clock, TimeSpan reverifyInterval)
    {
        _verifier = verifier;
        _server = server;
        _clock = clock;
        _reverifyInterval = reverifyInterval;

        Receive<NodeNotifications.NodeChanged>(_verifier.ApplyNodeChange);
        Receive<SubscribeAck>(_ => { });
        Receive<ExpiryTick>(_ =>
        {
            if (_verifier.NextExpiry is { } next && next <= _clock.GetUtcNow()) _verifier.RevokeExpired();
        });
        Receive<ReverifyTick>(_ =>
        {
            if (_reverifying) return;
            _reverifying = true;
            _server.ReverifyConnectedClientsAsync(CancellationToken.None)
                .PipeTo(Self, success: () => ReverifyDone.Instance, failure: e => new ReverifyFailed(e));
        });
        Receive<ReverifyDone>(_ => _reverifying = false);
        Receive<ReverifyFailed>(f =>
        {
            _reverifying = false;
            _log.Warning(f.Cause, "re-checking connected DERP clients failed; the next check is in {0}", _reverifyInterval);
        });
    }

    public ITimerScheduler Timers { get; set; } = null!;

    public static Props Props(NodeRegistryDerpVerifier verifier, DerpServer server, TimeProvider clock, TimeSpan reverifyInterval) =>
        Akka.Actor.Props.Create(() => new DerpRevocationActor(verifier, server, clock, reverifyInterval));

    protected override void PreStart()
    {
        DistributedPubSub.Get(Context.System).Mediator.Tell(new Subscribe(NodeNotifications.Topic, Self));
        Timers.StartPeriodicTimer(ExpiryTick.Instance, ExpiryTick.Instance, ExpiryCheckInterval);
        if (_reverifyInterval > TimeSpan.Zero)
        {
            Timers.StartPeriodicTimer(ReverifyTick.Instance, ReverifyTick.Instance, _reverifyInterval);
        }
    }

    protected override void PostStop() =>
        DistributedPubSub.Get(Context.System).Mediator.Tell(new Unsubscribe(NodeNotifications.Topic, Self));

    private sealed class ExpiryTick : INoSerializationVerificationNeeded, IDeadLetterSuppression, INotInfluenceReceiveTimeout
    {
        public static readonly ExpiryTick Instance = new();
    }

    private sealed class ReverifyTick : INoSerializationVerificationNeeded, IDeadLetterSuppression, INotInfluenceReceiveTimeout
    {
        public static readonly ReverifyTick Instance = new();
    }

    private sealed class ReverifyDone : INoSerializationVerificationNeeded
    {
        public static readonly ReverifyDone Instance = new();
    }

    private sealed record ReverifyFailed(Exception Cause) : INoSerializationVerificationNeeded;
}

/// <summary>Starts the <see cref="DerpRevocationActor"/> once the actor system runs, and stops it with the host.</summary>
public sealed class DerpRevocationService(IServiceProvider services, NodeRegistryDerpVerifier verifier, DerpServer server, TimeProvider clock)
    : IHostedService
{
    /// <summary>How often every connected client is checked against the registry again.</summary>
    public static readonly TimeSpan ReverifyInterval = TimeSpan.FromMinutes(5);

    private IActorRef? _actor;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        // Resolved here, not in the constructor: the actor system exists once Akka's hosted service (registered first) started.
        var system = services.GetRequiredService<ActorSystem>();
        _actor = system.ActorOf(DerpRevocationActor.Props(verifier, server, clock, ReverifyInterval), "derp-revocation");
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _actor?.Tell(PoisonPill.Instance);
        return Task.CompletedTask;
    }
}
