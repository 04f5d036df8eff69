using System.Globalization;
using Headscale.Actors.Nodes;

namespace Headscale.Actors.Tests;

/// <summary>Deterministic, distinct keys for tests: the number is in the last hex digits.</summary>
internal static class TestKeys
{
    public static MachineKey Machine(long n) => new(MachineKey.Prefix + Hex(n, 'a'));

    public static NodeKey Node(long n) => new(NodeKey.Prefix + Hex(n, 'b'));

    public static MachineKey RandomMachine() => MachineKey.FromBytes(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    public static NodeKey RandomNode() => NodeKey.FromBytes(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));

    private static string Hex(long n, char kind) =>
        kind + n.ToString("x", CultureInfo.InvariantCulture).PadLeft(63, '0');
}
