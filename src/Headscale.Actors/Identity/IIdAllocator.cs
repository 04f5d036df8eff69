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
    // Long enough for the singleton to start on a busy host right after the member joins itself.
    private static readonly TimeSpan AskTimeout = TimeSpan.FromSeconds(30);

    public async Task<ulong> AllocateAsync(IdKind kind, CancellationToken cancellationToken)
    {
        var actor = await allocator.GetAsync(cancellationToken);
        var reply = await actor.Ask<IdAllocatorCommands.IdAllocated>(
            new IdAllocatorCommands.AllocateId(kind), AskTimeout, cancellationToken);
        return reply.Id;
    }
}
