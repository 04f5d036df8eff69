using System.Globalization;

namespace Headscale.Actors.PreAuthKeys;

/// <summary>The stable numeric id of a pre-auth key.</summary>
public readonly record struct PreAuthKeyId(ulong Value)
{
    public override string ToString() => Value.ToString(CultureInfo.InvariantCulture);
}
