namespace Headscale.Derp.Protocol;

/// <summary>DERP frame types (derp-protocol.md §2.1).</summary>
public enum DerpFrameType : byte
{
    ServerKey = 0x01,
    ClientInfo = 0x02,
    ServerInfo = 0x03,
    SendPacket = 0x04,
    RecvPacket = 0x05,
    KeepAlive = 0x06,
    NotePreferred = 0x07,
    PeerGone = 0x08,
    PeerPresent = 0x09,
    ForwardPacket = 0x0a,
    WatchConns = 0x10,
    ClosePeer = 0x11,
    Ping = 0x12,
    Pong = 0x13,
    Health = 0x14,
    Restarting = 0x15,
}

/// <summary>Reason byte of a PeerGone frame.</summary>
public enum PeerGoneReason : byte
{
    /// <summary>The peer, which previously sent to you, disconnected from the region.</summary>
    Disconnected = 0x00,
    /// <summary>The server has no client with that key.</summary>
    NotHere = 0x01,
}

/// <summary>Flag bits of a PeerPresent frame.</summary>
[Flags]
public enum PeerPresentFlags : byte
{
    None = 0,
    Regular = 0x01,
    MeshPeer = 0x02,
    Prober = 0x04,
    NotIdeal = 0x08,
}
