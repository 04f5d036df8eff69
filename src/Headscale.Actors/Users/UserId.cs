using System.Globalization;

namespace Headscale.Actors.Users;

/// <summary>The stable numeric id of a user (from the id allocator).</summary>
public readonly record struct UserId(ulong Value)
{
    public override string ToString() => Value.ToString(CultureInfo.InvariantCulture);
}
