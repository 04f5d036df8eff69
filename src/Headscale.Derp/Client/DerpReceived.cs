using System.Net;
using Headscale.Derp.Keys;
using Headscale.Derp.Protocol;

namespace Headscale.Derp.Client;

/// <summary>
/// One frame received by <see cref="DerpClient"/>. For <see cref="DerpFrameType.RecvPacket"/> the packet was copied into the
/// caller's buffer and <see cref="Length"/> says how many bytes; <see cref="Key"/> is the source. For PeerGone/PeerPresent
/// <see cref="Key"/> is the peer. Ping/Pong carry <see cref="Data"/>; Health carries <see cref="Text"/>.
/// </summary>
public readonly record struct DerpReceived(
    DerpFrameType Type,
    DerpPublicKey Key = default,
    int Length = 0,
    PeerGoneReason Reason = PeerGoneReason.Disconnected,
    PeerPresentFlags Flags = PeerPresentFlags.None,
    IPEndPoint? Endpoint = null,
    ulong Data = 0,
    string? Text = null);

/// <summary>Options of <see cref="DerpClient"/>.</summary>
public sealed class DerpClientOptions
{
    /// <summary>Mesh key (64 hex) to present; makes this client a mesh peer of a server with the same key.</summary>
    public string? MeshKey { get; init; }

    public bool IsProber { get; init; }

    /// <summary>Send <c>Derp-Fast-Start: 1</c> and do not wait for the HTTP response (servers that support it only).</summary>
    public bool FastStart { get; init; }

    /// <summary>Skip TLS certificate validation for https/wss URLs (tests only).</summary>
    public bool InsecureSkipVerify { get; init; }

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);
}
