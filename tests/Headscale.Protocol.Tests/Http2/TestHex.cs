namespace Headscale.Protocol.Tests.Http2;

internal static class TestHex
{
    /// <summary>Bytes of a hex dump as the RFC prints it (groups separated by spaces).</summary>
    public static byte[] Bytes(string hex) =>
        Convert.FromHexString(string.Concat(hex.Where(c => !char.IsWhiteSpace(c))));
}
