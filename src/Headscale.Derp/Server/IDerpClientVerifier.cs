using System.Collections.Concurrent;
using System.Net;
using Headscale.Derp.Keys;

namespace Headscale.Derp.Server;

/// <summary>
/// Admission control for DERP clients (<c>derp.server.verify_clients</c>). The actor layer implements it against the
/// live node set. Mesh peers (correct mesh key) are never asked.
/// </summary>
public interface IDerpClientVerifier
{
    /// <summary>Whether <paramref name="nodeKey"/> may connect. Called once per connection during the handshake.</summary>
    ValueTask<bool> IsAllowedAsync(DerpPublicKey nodeKey, IPAddress? source, CancellationToken cancellationToken);

    /// <summary>Raised when a key that may be connected is no longer allowed; the server closes its connections.</summary>
    event Action<DerpPublicKey>? Revoked;
}

/// <summary>Admits every client (verify_clients = false).</summary>
public sealed class AllowAllDerpClientVerifier : IDerpClientVerifier
{
    public ValueTask<bool> IsAllowedAsync(DerpPublicKey nodeKey, IPAddress? source, CancellationToken cancellationToken) =>
        ValueTask.FromResult(true);

    public event Action<DerpPublicKey>? Revoked { add { } remove { } }
}

/// <summary>Admits a fixed, mutable set of keys; removing a key revokes it. For tests and static deployments.</summary>
public sealed class StaticDerpClientVerifier : IDerpClientVerifier
{
    private readonly ConcurrentDictionary<DerpPublicKey, byte> _allowed = new();

    public StaticDerpClientVerifier(IEnumerable<DerpPublicKey>? allowed = null)
    {
        foreach (var key in allowed ?? []) _allowed[key] = 0;
    }

    public event Action<DerpPublicKey>? Revoked;

    public void Allow(DerpPublicKey key) => _allowed[key] = 0;

    public void Revoke(DerpPublicKey key)
    {
        if (_allowed.TryRemove(key, out _)) Revoked?.Invoke(key);
    }

    public ValueTask<bool> IsAllowedAsync(DerpPublicKey nodeKey, IPAddress? source, CancellationToken cancellationToken) =>
        ValueTask.FromResult(_allowed.ContainsKey(nodeKey));
}
