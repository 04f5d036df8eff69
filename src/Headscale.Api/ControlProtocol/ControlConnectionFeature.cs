using System.Net;
using Headscale.Protocol.Keys;

namespace Headscale.Api.ControlProtocol;

/// <summary>
/// Present on every request that arrived inside a ts2021 connection (<c>HttpContext.Features.Get&lt;IControlConnectionFeature&gt;()</c>).
/// /machine/* endpoints bind the request to <see cref="MachineKey"/>: a node key in a body must belong to this machine.
/// </summary>
public interface IControlConnectionFeature
{
    /// <summary>The client's machine public key, authenticated by the Noise handshake.</summary>
    MachinePublicKey MachineKey { get; }

    /// <summary>The client's capability version from the handshake.</summary>
    ushort ProtocolVersion { get; }

    /// <summary>The challenge key sent in the early payload, or null when none was sent (WebSocket connections).</summary>
    ChallengePublicKey? NodeKeyChallenge { get; }

    /// <summary>The Noise handshake hash, for channel binding.</summary>
    ReadOnlyMemory<byte> HandshakeHash { get; }

    /// <summary>Address of the outer TCP peer.</summary>
    IPEndPoint? RemoteEndPoint { get; }

    /// <summary>True when the connection came over the WebSocket variant.</summary>
    bool IsWebSocket { get; }
}

internal sealed record ControlConnectionFeature(
    MachinePublicKey MachineKey,
    ushort ProtocolVersion,
    ChallengePublicKey? NodeKeyChallenge,
    ReadOnlyMemory<byte> HandshakeHash,
    IPEndPoint? RemoteEndPoint,
    bool IsWebSocket) : IControlConnectionFeature;

/// <summary>Supplies the server's long-term Noise key. Register one, or register a <see cref="MachinePrivateKey"/> singleton.</summary>
public interface INoiseKeyProvider
{
    MachinePrivateKey NoiseKey { get; }
}

internal sealed class SingletonNoiseKeyProvider(MachinePrivateKey key) : INoiseKeyProvider
{
    public MachinePrivateKey NoiseKey { get; } = key;
}
