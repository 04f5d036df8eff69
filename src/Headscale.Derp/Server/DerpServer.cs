using System.Buffers;
using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Net;
using System.Security.Cryptography;
using Headscale.Derp.Keys;
using Headscale.Derp.Protocol;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Headscale.Derp.Server;

/// <summary>
/// The DERP relay. Transport-agnostic: <see cref="HandleConnectionAsync"/> runs one client over any duplex pipe
/// (HTTP upgrade, WebSocket, raw socket). Holds the key → connection registry, mesh routes and watchers.
/// Packets never leave this class and <see cref="DerpServerConnection"/>: no actor is on the packet path.
/// </summary>
public sealed class DerpServer : IAsyncDisposable
{
    private readonly ConcurrentDictionary<DerpPublicKey, ClientSet> _clients = new();
    private readonly ConcurrentDictionary<DerpPublicKey, IDerpMeshForwarder> _meshRoutes = new();
    private readonly ConcurrentDictionary<DerpServerConnection, byte> _connections = new();
    private readonly Lock _registryLock = new();
    private readonly List<DerpServerConnection> _watchers = [];
    private readonly byte[]? _meshKey;
    private readonly Timer _housekeeping;
    private readonly IDerpClientVerifier? _verifier;

    public DerpServer(DerpServerOptions options, IDerpClientVerifier? verifier = null, ILogger<DerpServer>? logger = null)
    {
        Options = options;
        PrivateKey = options.ResolvePrivateKey();
        _meshKey = options.ParseMeshKey();
        Logger = (ILogger?)logger ?? NullLogger.Instance;
        if (options.VerifyClients)
        {
            _verifier = verifier ?? throw new ArgumentException(
                "derp.server.verify_clients is on but no IDerpClientVerifier was given.", nameof(verifier));
            _verifier.Revoked += OnRevoked;
        }
        _housekeeping = new Timer(_ => Housekeep(), null, options.HousekeepingInterval, options.HousekeepingInterval);
    }

    public DerpServerOptions Options { get; }
    public DerpPrivateKey PrivateKey { get; }
    public DerpPublicKey PublicKey => PrivateKey.PublicKey;
    internal ILogger Logger { get; }
    internal bool HasMeshKey => _meshKey is not null;

    /// <summary>Number of distinct keys connected locally.</summary>
    public int ClientCount => _clients.Count;

    /// <summary>Number of open connections after handshake (duplicates counted).</summary>
    public int ConnectionCount => _connections.Count;

    public bool IsConnected(DerpPublicKey key) => _clients.ContainsKey(key);

    /// <summary>Whether a mesh peer announced <paramref name="key"/> as connected to it.</summary>
    public bool IsReachableViaMesh(DerpPublicKey key) => _meshRoutes.ContainsKey(key);

    /// <summary>
    /// Runs one DERP connection until it ends. <paramref name="abort"/> tears down the transport (e.g. <c>HttpContext.Abort</c>)
    /// and is called when the server closes the connection (revocation, ClosePeer, stalled writes).
    /// </summary>
    public Task HandleConnectionAsync(IDuplexPipe transport, IPEndPoint? remoteEndPoint, Action? abort, CancellationToken cancellationToken)
    {
        var connection = new DerpServerConnection(this, transport, remoteEndPoint, abort);
        return connection.RunAsync(cancellationToken);
    }

    internal bool IsMeshKey(string? meshKeyHex)
    {
        if (_meshKey is null || meshKeyHex is null || meshKeyHex.Length != 64) return false;
        Span<byte> given = stackalloc byte[32];
        if (Convert.FromHexString(meshKeyHex, given, out _, out var written) != OperationStatus.Done || written != 32) return false;
        return CryptographicOperations.FixedTimeEquals(given, _meshKey);
    }

    internal ValueTask<bool> IsAllowedAsync(DerpPublicKey key, IPAddress? source, CancellationToken cancellationToken) =>
        _verifier is null ? ValueTask.FromResult(true) : _verifier.IsAllowedAsync(key, source, cancellationToken);

    internal void Register(DerpServerConnection connection)
    {
        bool first;
        lock (_registryLock)
        {
            var set = _clients.GetOrAdd(connection.Key, static _ => new ClientSet());
            first = set.Add(connection);
            connection.Set = set;
            _connections[connection] = 0;
            if (first)
                foreach (var watcher in _watchers)
                    watcher.EnqueueControl(new ControlFrame(ControlKind.PeerPresent, connection.Key,
                        Flags: (byte)connection.PresenceFlags, Endpoint: connection.RemoteEndPoint));
        }
        DerpMetrics.ConnectionOpened(connection.IsMeshPeer);
        DerpMetrics.Accepted.Add(1);
    }

    internal void Unregister(DerpServerConnection connection)
    {
        lock (_registryLock)
        {
            if (!_connections.TryRemove(connection, out _)) return;
            _watchers.Remove(connection);
            if (_clients.TryGetValue(connection.Key, out var set) && set.Remove(connection))
            {
                _clients.TryRemove(connection.Key, out _);
                foreach (var watcher in _watchers)
                    watcher.EnqueueControl(new ControlFrame(ControlKind.PeerGone, connection.Key, Flags: (byte)PeerGoneReason.Disconnected));
                foreach (var heardFrom in set.SentTo)
                    if (_clients.TryGetValue(heardFrom, out var receivers))
                        receivers.Active.EnqueueControl(new ControlFrame(ControlKind.PeerGone, connection.Key, Flags: (byte)PeerGoneReason.Disconnected));
            }
        }
        DerpMetrics.ConnectionClosed(connection.IsMeshPeer);
    }

    /// <summary>WatchConns from a mesh peer: dump current presence, then stream changes.</summary>
    internal void AddWatcher(DerpServerConnection watcher)
    {
        lock (_registryLock)
        {
            if (_watchers.Contains(watcher)) return;
            _watchers.Add(watcher);
            foreach (var (key, set) in _clients)
            {
                var active = set.Active;
                watcher.EnqueueControl(new ControlFrame(ControlKind.PeerPresent, key,
                    Flags: (byte)active.PresenceFlags, Endpoint: active.RemoteEndPoint));
            }
        }
    }

    /// <summary>Routes a SendPacket from a local client: local delivery, else a mesh peer, else drop.</summary>
    internal void Route(DerpServerConnection from, in DerpPublicKey destination, in ReadOnlySequence<byte> packet)
    {
        DerpMetrics.PacketsReceived.Add(1);
        DerpMetrics.BytesReceived.Add(packet.Length);
        if (_clients.TryGetValue(destination, out var set))
        {
            set.Active.EnqueuePacket(from.Key, destination, packet);
            from.Set?.NoteSentTo(destination);
            return;
        }
        if (_meshRoutes.TryGetValue(destination, out var forwarder))
        {
            if (forwarder.TryForward(from.Key, destination, packet)) DerpMetrics.PacketsForwarded.Add(1);
            else DerpMetrics.PacketsDropped.Add(1, DerpMetrics.DropReason.MeshQueueFull);
            return;
        }
        DropUnknownDestination(from, destination, packet);
    }

    /// <summary>Delivers a ForwardPacket from a mesh peer; forwarded packets are never forwarded again.</summary>
    internal void DeliverForwarded(DerpServerConnection from, in DerpPublicKey source, in DerpPublicKey destination, in ReadOnlySequence<byte> packet)
    {
        DerpMetrics.PacketsReceived.Add(1);
        DerpMetrics.BytesReceived.Add(packet.Length);
        if (_clients.TryGetValue(destination, out var set))
            set.Active.EnqueuePacket(source, destination, packet);
        else
            DerpMetrics.PacketsDropped.Add(1, DerpMetrics.DropReason.UnknownDestination);
    }

    private static void DropUnknownDestination(DerpServerConnection from, in DerpPublicKey destination, in ReadOnlySequence<byte> packet)
    {
        DerpMetrics.PacketsDropped.Add(1, DerpMetrics.DropReason.UnknownDestination);
        Span<byte> head = stackalloc byte[DerpConstants.MinDiscoPacketLength];
        if (packet.Length < head.Length) return;
        packet.Slice(0, head.Length).CopyTo(head);
        if (DerpConstants.IsDiscoPacket(head) && from.TryTakePeerGoneToken())
            from.EnqueueControl(new ControlFrame(ControlKind.PeerGone, destination, Flags: (byte)PeerGoneReason.NotHere));
    }

    /// <summary>Closes every local connection of <paramref name="key"/> (ClosePeer from a mesh peer, or revocation).</summary>
    public int CloseClient(DerpPublicKey key)
    {
        if (!_clients.TryGetValue(key, out var set)) return 0;
        var connections = set.Snapshot();
        foreach (var connection in connections) connection.Abort("closed by server");
        return connections.Length;
    }

    /// <summary>Re-checks every connected regular client against the verifier and closes those no longer allowed.</summary>
    public async Task ReverifyConnectedClientsAsync(CancellationToken cancellationToken)
    {
        if (_verifier is null) return;
        foreach (var connection in _connections.Keys)
            if (!connection.IsMeshPeer && !await _verifier.IsAllowedAsync(connection.Key, connection.RemoteEndPoint?.Address, cancellationToken))
                connection.Abort("no longer allowed");
    }

    private void OnRevoked(DerpPublicKey key)
    {
        if (!_clients.TryGetValue(key, out var set)) return;
        var regular = set.Snapshot().Where(c => !c.IsMeshPeer).ToArray();
        DerpLog.ClientRevoked(Logger, key.ToShortString(), regular.Length);
        foreach (var connection in regular) connection.Abort("revoked");
    }

    /// <summary>A mesh peer announced <paramref name="key"/> (PeerPresent); packets for it go through <paramref name="forwarder"/>.</summary>
    public void AddMeshRoute(DerpPublicKey key, IDerpMeshForwarder forwarder)
    {
        if (key == PublicKey) return;
        _meshRoutes[key] = forwarder;
    }

    public void RemoveMeshRoute(DerpPublicKey key, IDerpMeshForwarder forwarder) =>
        _meshRoutes.TryRemove(new KeyValuePair<DerpPublicKey, IDerpMeshForwarder>(key, forwarder));

    /// <summary>Forgets every route through <paramref name="forwarder"/> (its connection broke).</summary>
    public void RemoveMeshRoutes(IDerpMeshForwarder forwarder)
    {
        foreach (var (key, value) in _meshRoutes)
            if (ReferenceEquals(value, forwarder)) _meshRoutes.TryRemove(new KeyValuePair<DerpPublicKey, IDerpMeshForwarder>(key, value));
    }

    /// <summary>Tells every client the server restarts soon (advisory Restarting frame).</summary>
    public void AnnounceRestart(TimeSpan reconnectIn, TimeSpan tryFor)
    {
        var data = ((ulong)(uint)reconnectIn.TotalMilliseconds << 32) | (uint)tryFor.TotalMilliseconds;
        foreach (var connection in _connections.Keys)
            connection.EnqueueControl(new ControlFrame(ControlKind.Restarting, Data: data));
    }

    private void Housekeep()
    {
        var now = Environment.TickCount64;
        foreach (var connection in _connections.Keys) connection.Housekeep(now);
    }

    /// <summary>Aborts every open connection (host shutdown); clients reconnect elsewhere or when the server is back.</summary>
    public void CloseAllConnections(string reason)
    {
        foreach (var connection in _connections.Keys) connection.Abort(reason);
    }

    public async ValueTask DisposeAsync()
    {
        await _housekeeping.DisposeAsync();
        if (_verifier is not null) _verifier.Revoked -= OnRevoked;
        CloseAllConnections("server stopping");
    }
}

/// <summary>Forwards packets to another server of the mesh (implemented by the mesh client).</summary>
public interface IDerpMeshForwarder
{
    /// <summary>Queues a ForwardPacket; false when it was dropped.</summary>
    bool TryForward(in DerpPublicKey source, in DerpPublicKey destination, in ReadOnlySequence<byte> packet);
}
