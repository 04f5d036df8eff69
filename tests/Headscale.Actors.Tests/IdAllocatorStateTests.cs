using Headscale.Actors.Identity;

namespace Headscale.Actors.Tests;

public sealed class IdAllocatorStateTests
{
    [Fact]
    public void Reservations_only_move_forward_per_kind()
    {
        var state = IdAllocatorState.Empty
            .Apply(new IdAllocatorEvents.IdsReserved(IdKind.Node, 64))
            .Apply(new IdAllocatorEvents.IdsReserved(IdKind.User, 64))
            .Apply(new IdAllocatorEvents.IdsReserved(IdKind.Node, 32));

        Assert.Equal(64UL, state.ReservedFor(IdKind.Node));
        Assert.Equal(64UL, state.ReservedFor(IdKind.User));
        Assert.Equal(0UL, state.ReservedFor(IdKind.ApiKey));
    }
}
