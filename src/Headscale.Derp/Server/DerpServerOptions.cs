using Headscale.Derp.Keys;

namespace Headscale.Derp.Server;

/// <summary>
/// Settings of the embedded DERP server, mirroring headscale's <c>derp.server.*</c> keys where one exists
/// (e.g. <c>derp.server.verify_clients</c> → <see cref="VerifyClients"/>; env <c>HEADSCALE_DERP_SERVER_VERIFY_CLIENTS</c>).
/// </summary>
public sealed class DerpServerOptions
{
    /// <summary><c>derp.server.enabled</c>.</summary>
    public bool Enabled { get; set; }

    /// <summary>The server key. When null it is loaded from (or created at) <see cref="PrivateKeyPath"/>.</summary>
    public DerpPrivateKey? PrivateKey { get; set; }

    /// <summary><c>derp.server.private_key_path</c>; must differ from the Noise key.</summary>
    public string? PrivateKeyPath { get; set; }

    /// <summary><c>derp.server.verify_clients</c>: admit only node keys the <see cref="IDerpClientVerifier"/> allows.</summary>
    public bool VerifyClients { get; set; } = true;

    /// <summary><c>derp.server.stun_listen_addr</c>, e.g. <c>0.0.0.0:3478</c>. Null disables STUN.</summary>
    public string? StunListenAddr { get; set; }

    /// <summary>64 hex characters shared by every server of the mesh. Null disables mesh.</summary>
    public string? MeshKey { get; set; }

    /// <summary>DERP URLs of the other servers of this region, e.g. <c>http://host2:8080/derp</c>.</summary>
    public List<string> MeshWith { get; set; } = [];

    /// <summary>Packets queued per client (and again for disco packets) before the oldest is dropped.</summary>
    public int PerClientSendQueueDepth { get; set; } = 32;

    /// <summary>Control frames (PeerGone, Pong, …) queued per regular client.</summary>
    public int PerClientControlQueueDepth { get; set; } = 64;

    /// <summary>Control frames queued per mesh peer: a watcher gets one PeerPresent per local client at once.</summary>
    public int MeshControlQueueDepth { get; set; } = 1 << 20;

    public TimeSpan WriteTimeout { get; set; } = TimeSpan.FromSeconds(2);
    public TimeSpan MeshWriteTimeout { get; set; } = TimeSpan.FromSeconds(30);
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);
    public TimeSpan KeepAliveInterval { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often keep-alives and stalled writes are checked, for all connections at once.</summary>
    public TimeSpan HousekeepingInterval { get; set; } = TimeSpan.FromSeconds(1);

    internal byte[]? ParseMeshKey()
    {
        if (string.IsNullOrWhiteSpace(MeshKey)) return null;
        var text = MeshKey.Trim();
        if (text.Length != 64)
            throw new FormatException($"derp mesh key must be 64 hex characters, got {text.Length}.");
        try
        {
            return Convert.FromHexString(text);
        }
        catch (FormatException)
        {
            throw new FormatException("derp mesh key must be hexadecimal.");
        }
    }

    internal DerpPrivateKey ResolvePrivateKey()
    {
        if (PrivateKey is not null) return PrivateKey;
        if (string.IsNullOrWhiteSpace(PrivateKeyPath))
            throw new InvalidOperationException("derp.server.private_key_path is required when no private key is given.");
        return PrivateKey = DerpPrivateKey.LoadOrCreate(PrivateKeyPath);
    }
}
