using System.Buffers;
using Headscale.Derp.Client;
using Headscale.Derp.Keys;
using Headscale.Derp.Protocol;
using Headscale.Derp.Server;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Headscale.Derp.Mesh;

/// <summary>
/// This server's link to one other server of the region: it connects as a DERP client with the server's own key and the
/// mesh key, sends WatchConns, turns PeerPresent/PeerGone into mesh routes, and carries ForwardPackets to that server
/// through a bounded queue. Reconnects with backoff; all routes through it are dropped while it is down.
/// </summary>
public sealed class DerpMeshPeer : IDerpMeshForwarder
{
    private const int ForwardQueueDepth = 4096;
    private readonly DerpServer _server;
    private readonly Uri _url;
    private readonly ILogger _logger;
    private SendQueue _queue = new(ForwardQueueDepth, 1);

    public DerpMeshPeer(DerpServer server, Uri url, ILogger? logger = null)
    {
        _server = server;
        _url = url;
        _logger = logger ?? NullLogger.Instance;
    }

    public Uri Url => _url;

    /// <summary>Normalises a <c>mesh_with</c> entry: a bare host becomes <c>https://host/derp</c>.</summary>
    public static Uri ParseMeshUrl(string entry)
    {
        var text = entry.Trim();
        if (!text.Contains("://", StringComparison.Ordinal)) text = "https://" + text + "/derp";
        if (!Uri.TryCreate(text, UriKind.Absolute, out var url) || url.Scheme is not ("http" or "https" or "ws" or "wss"))
            throw new FormatException($"DERP mesh peer '{entry}' is not a host name or an http(s)/ws(s) URL.");
        return url;
    }

    public bool TryForward(in DerpPublicKey source, in DerpPublicKey destination, in ReadOnlySequence<byte> packet)
    {
        var queued = QueuedPacket.Rent(source, destination, packet);
        if (!_queue.TryEnqueuePacket(queued, disco: false, out var droppedOldest))
        {
            queued.Return();
            return false;
        }
        if (droppedOldest) DerpMetrics.PacketsDropped.Add(1, DerpMetrics.DropReason.MeshQueueFull);
        return true;
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        var backoff = TimeSpan.FromMilliseconds(250);
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                await using var client = await DerpClient.ConnectAsync(_url, _server.PrivateKey,
                    new DerpClientOptions { MeshKey = _server.Options.MeshKey }, cancellationToken);
                if (client.ServerKey == _server.PublicKey)
                {
                    DerpLog.MeshSelf(_logger, _url.ToString());
                    return;
                }
                DerpLog.MeshConnected(_logger, _url.ToString(), client.ServerKey.ToShortString());
                backoff = TimeSpan.FromMilliseconds(250);
                _queue = new SendQueue(ForwardQueueDepth, 1);
                using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                var pump = PumpAsync(client, _queue, linked.Token);
                try
                {
                    await client.WatchConnsAsync(cancellationToken);
                    await ReceiveAsync(client, cancellationToken);
                }
                finally
                {
                    _queue.Close();
                    await linked.CancelAsync();
                    await pump;
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e) when (e is IOException or DerpProtocolException or System.Net.Sockets.SocketException
                                          or System.Net.WebSockets.WebSocketException or OperationCanceledException
                                          or System.Security.Authentication.AuthenticationException)
            {
                DerpLog.MeshFailed(_logger, _url.ToString(), e.Message);
            }
            finally
            {
                _server.RemoveMeshRoutes(this);
            }
            await Task.Delay(backoff, cancellationToken).ContinueWith(static _ => { }, TaskScheduler.Default);
            backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
        }
    }

    private async Task ReceiveAsync(DerpClient client, CancellationToken cancellationToken)
    {
        var buffer = new byte[DerpConstants.MaxPacketSize];
        while (true)
        {
            var frame = await client.ReceiveAsync(buffer, cancellationToken);
            switch (frame.Type)
            {
                case DerpFrameType.PeerPresent:
                    _server.AddMeshRoute(frame.Key, this);
                    break;
                case DerpFrameType.PeerGone:
                    _server.RemoveMeshRoute(frame.Key, this);
                    break;
            }
        }
    }

    private static async Task PumpAsync(DerpClient client, SendQueue queue, CancellationToken cancellationToken)
    {
        try
        {
            while (!queue.IsClosed)
            {
                await queue.WaitAsync();
                while (queue.TryDequeue(out _, out var packet, out var isPacket))
                {
                    if (!isPacket) continue;
                    try
                    {
                        await client.ForwardPacketAsync(packet.Source, packet.Destination, packet.Buffer.AsMemory(0, packet.Length), cancellationToken);
                    }
                    finally
                    {
                        packet.Return();
                    }
                }
            }
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException
                                      or System.Net.WebSockets.WebSocketException or InvalidOperationException)
        {
            // The receive side sees the same failure and reconnects.
        }
    }
}

/// <summary>Runs one <see cref="DerpMeshPeer"/> per <c>mesh_with</c> entry for the lifetime of the host.</summary>
public sealed class DerpMeshService(DerpServer server, IReadOnlyList<string> meshWith, ILogger<DerpMeshService>? logger) : BackgroundService
{
    protected override Task ExecuteAsync(CancellationToken stoppingToken) =>
        Task.WhenAll(meshWith.Select(entry => new DerpMeshPeer(server, DerpMeshPeer.ParseMeshUrl(entry), logger).RunAsync(stoppingToken)));
}
