using Akka.Actor;
using Akka.Hosting;
using Headscale.Actors.Hosting;
using Headscale.Actors.Nodes;
using Headscale.Actors.PreAuthKeys;

namespace Headscale.Actors.Registration;

/// <summary>The actors the node lifecycle facades talk to, each asked with the configured timeout and the caller's token.</summary>
internal sealed class DomainActors(
    IRequiredActor<NodeRegistrySingleton> registry,
    IRequiredActor<NodeShard> nodes,
    IRequiredActor<PreAuthKeyStoreSingleton> keys,
    IRequiredActor<PendingRegistrationsSingleton> pending,
    HeadscaleActorsOptions options)
{
    public DomainSettings Settings => options.Domain;

    public Task<T> RegistryAsync<T>(object message, CancellationToken cancellationToken) =>
        AskAsync<T, NodeRegistrySingleton>(registry, message, Settings.AskTimeout, cancellationToken);

    public Task<T> NodeAsync<T>(object message, CancellationToken cancellationToken) =>
        AskAsync<T, NodeShard>(nodes, message, Settings.AskTimeout, cancellationToken);

    public Task<T> KeysAsync<T>(object message, CancellationToken cancellationToken) =>
        AskAsync<T, PreAuthKeyStoreSingleton>(keys, message, Settings.AskTimeout, cancellationToken);

    public Task<T> PendingAsync<T>(object message, CancellationToken cancellationToken, TimeSpan? timeout = null) =>
        AskAsync<T, PendingRegistrationsSingleton>(pending, message, timeout ?? Settings.AskTimeout, cancellationToken);

    public async Task TellNodeAsync(object message, CancellationToken cancellationToken) =>
        (await nodes.GetAsync(cancellationToken)).Tell(message);

    private static async Task<T> AskAsync<T, TKey>(IRequiredActor<TKey> actor, object message, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var target = await actor.GetAsync(cancellationToken);
        return await target.Ask<T>(message, timeout, cancellationToken);
    }
}
