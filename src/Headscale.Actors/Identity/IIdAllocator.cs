using Akka.Actor;
using Akka.Hosting;

namespace Headscale.Actors.Identity;

/// <summary>Registry key for the id allocator singleton proxy.</summary>
public sealed class IdAllocatorSingleton;

/// <summary>Facade over the id allocator for code outside the actor system.</summary>
public interface IIdAllocator
{
    Task<ulong> AllocateAsync(IdKind kind, CancellationToken cancellationToken);
}

internal sealed class IdAllocatorFacade(IRequiredActor<IdAllocatorSingleton> allocator) : IIdAllocator
{
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(10);

    public async Task<ulong> AllocateAsync(IdKind kind, CancellationToken cancellationToken)
    {
        var actor = await allocator.GetAsync(cancellationToken);
        var reply = await actor.Ask<IdAllocatorCommands.IdAllocated>(
            new IdAllocatorCommands.AllocateId(kind), AskTimeout, cancellationToken);
        return reply.Id;
    }
}
