namespace Headscale.Actors.Identity;

/// <summary>The kinds of entity that get stable numeric ids from <see cref="IdAllocatorActor"/>.</summary>
public enum IdKind
{
    User = 1,
    Node = 2,
    PreAuthKey = 3,
    ApiKey = 4,
}
