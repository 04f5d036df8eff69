namespace Headscale.Derp.Protocol;

/// <summary>Wire constants of the DERP protocol (derp-protocol.md §2, §3).</summary>
public static class DerpConstants
{
    public const int ProtocolVersion = 2;
    public const int FrameHeaderLength = 5;
    public const int KeyLength = 32;
    public const int NonceLength = 24;

    /// <summary>Largest packet payload a SendPacket/ForwardPacket may carry.</summary>
    public const int MaxPacketSize = 64 << 10;

    /// <summary>Largest frame accepted in steady state: a ForwardPacket with two keys and a maximal packet.</summary>
    public const int MaxSteadyStateFrameLength = 2 * KeyLength + MaxPacketSize;

    /// <summary>Largest ClientInfo frame the server reads.</summary>
    public const int MaxClientInfoLength = 256 << 10;

    /// <summary>Largest frame a client accepts.</summary>
    public const int MaxClientFrameLength = 1 << 20;

    public const int PeerPresentLength = KeyLength + 16 + 2 + 1;

    /// <summary>"DERP🔑" in UTF-8: the magic that starts a ServerKey frame.</summary>
    public static ReadOnlySpan<byte> Magic => [0x44, 0x45, 0x52, 0x50, 0xf0, 0x9f, 0x94, 0x91];

    /// <summary>"TS💬": the magic that starts a disco packet.</summary>
    public static ReadOnlySpan<byte> DiscoMagic => [0x54, 0x53, 0xf0, 0x9f, 0x92, 0xac];

    /// <summary>Disco magic + sender disco key + nonce.</summary>
    public const int MinDiscoPacketLength = 6 + KeyLength + 24;

    public static bool IsDiscoPacket(ReadOnlySpan<byte> packet) =>
        packet.Length >= MinDiscoPacketLength && packet.StartsWith(DiscoMagic);
}
