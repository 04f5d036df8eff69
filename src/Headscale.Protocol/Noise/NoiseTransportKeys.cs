using Headscale.Protocol.Keys;

namespace Headscale.Protocol.Noise;

/// <summary>Outcome of a completed handshake: the two transport keys as seen from one side, and what was agreed.</summary>
public sealed class NoiseTransportKeys(
    byte[] sendKey, byte[] receiveKey, byte[] handshakeHash, ushort protocolVersion, MachinePublicKey peerStaticKey)
{
    public ReadOnlyMemory<byte> SendKey { get; } = sendKey;
    public ReadOnlyMemory<byte> ReceiveKey { get; } = receiveKey;

    /// <summary>The final handshake hash <c>h</c>, usable for channel binding.</summary>
    public ReadOnlyMemory<byte> HandshakeHash { get; } = handshakeHash;

    /// <summary>The client's capability version, taken from the initiation header and bound by the prologue.</summary>
    public ushort ProtocolVersion { get; } = protocolVersion;

    /// <summary>The authenticated static key of the other side (the client's machine key on the server).</summary>
    public MachinePublicKey PeerStaticKey { get; } = peerStaticKey;
}
