using System.IO.Pipelines;
using System.Net;
using System.Threading.Channels;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http.Features;

namespace Headscale.Api.ControlProtocol;

/// <summary>The address of Kestrel's inner HTTP/2 listener: not a socket, but the queue of decrypted Noise connections.</summary>
public sealed class Ts2021InnerEndPoint : EndPoint
{
    public static readonly Ts2021InnerEndPoint Instance = new();

    private Ts2021InnerEndPoint()
    {
    }

    public override string ToString() => "ts2021-inner";
}

/// <summary>
/// A Kestrel transport whose "accepted connections" are Noise plaintext pipes pushed by the /ts2021 handler, so the inner
/// HTTP/2 is served by Kestrel itself and inner endpoints are ordinary ASP.NET endpoints. Sockets remain the transport
/// for every IP endpoint (the selector only claims <see cref="Ts2021InnerEndPoint"/>).
/// </summary>
public sealed class Ts2021ConnectionListenerFactory : IConnectionListenerFactory, IConnectionListenerFactorySelector
{
    private Listener? _listener;

    public bool CanBind(EndPoint endpoint) => endpoint is Ts2021InnerEndPoint;

    public ValueTask<IConnectionListener> BindAsync(EndPoint endpoint, CancellationToken cancellationToken = default)
    {
        if (endpoint is not Ts2021InnerEndPoint)
        {
            throw new NotSupportedException($"{endpoint} is not the ts2021 inner endpoint.");
        }

        var listener = new Listener(endpoint);
        if (Interlocked.CompareExchange(ref _listener, listener, null) is not null)
        {
            throw new InvalidOperationException("The ts2021 inner endpoint is already bound.");
        }

        return ValueTask.FromResult<IConnectionListener>(listener);
    }

    /// <summary>Hands a connection to Kestrel. False if the inner listener is not bound (misconfiguration or shutdown).</summary>
    internal bool TryAccept(ConnectionContext connection) => Volatile.Read(ref _listener)?.Queue.Writer.TryWrite(connection) ?? false;

    private sealed class Listener(EndPoint endpoint) : IConnectionListener
    {
        // Unbounded is safe here: each queued item is an already-upgraded connection whose handler awaits it, so the
        // queue can hold no more than the socket listener has accepted, and Kestrel drains it at once.
        public Channel<ConnectionContext> Queue { get; } = Channel.CreateUnbounded<ConnectionContext>(
            new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });

        public EndPoint EndPoint { get; } = endpoint;

        public async ValueTask<ConnectionContext?> AcceptAsync(CancellationToken cancellationToken = default)
        {
            try
            {
                return await Queue.Reader.ReadAsync(cancellationToken);
            }
            catch (ChannelClosedException)
            {
                return null;
            }
        }

        public ValueTask UnbindAsync(CancellationToken cancellationToken = default)
        {
            Queue.Writer.TryComplete();
            return ValueTask.CompletedTask;
        }

        public ValueTask DisposeAsync()
        {
            Queue.Writer.TryComplete();
            while (Queue.Reader.TryRead(out var orphan))
            {
                orphan.Abort();
            }

            return ValueTask.CompletedTask;
        }
    }
}

/// <summary>One decrypted ts2021 connection as Kestrel sees it.</summary>
internal sealed class Ts2021ConnectionContext : ConnectionContext, IConnectionLifetimeFeature, IConnectionIdFeature
{
    private static long _nextId;
    private readonly CancellationTokenSource _closed = new();
    private readonly TaskCompletionSource _finished = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Ts2021ConnectionContext(IDuplexPipe transport, IControlConnectionFeature control, EndPoint? localEndPoint)
    {
        Transport = transport;
        ConnectionId = "ts2021-" + Interlocked.Increment(ref _nextId).ToString(System.Globalization.CultureInfo.InvariantCulture);
        RemoteEndPoint = control.RemoteEndPoint;
        LocalEndPoint = localEndPoint;
        Features.Set<IControlConnectionFeature>(control);
        Features.Set<Headscale.Api.ControlPlane.IControlPeerIdentity>(
            new Headscale.Api.ControlPlane.ControlPeerIdentity(new Headscale.Actors.Nodes.MachineKey(control.MachineKey.ToString())));
        Features.Set<IConnectionLifetimeFeature>(this);
        Features.Set<IConnectionIdFeature>(this);
    }

    public override string ConnectionId { get; set; }

    public override IFeatureCollection Features { get; } = new FeatureCollection();

    public override IDictionary<object, object?> Items { get; set; } = new Dictionary<object, object?>();

    public override IDuplexPipe Transport { get; set; }

    public override CancellationToken ConnectionClosed
    {
        get => _closed.Token;
        set { }
    }

    /// <summary>Completes when Kestrel is done with the connection (aborted or disposed).</summary>
    public Task Finished => _finished.Task;

    /// <summary>The client side went away; lets Kestrel abort requests in flight.</summary>
    public void SignalClosed()
    {
        try
        {
            _closed.Cancel();
        }
        catch (ObjectDisposedException)
        {
        }
    }

    public override void Abort(ConnectionAbortedException abortReason)
    {
        SignalClosed();
        _finished.TrySetResult();
    }

    public override ValueTask DisposeAsync()
    {
        _finished.TrySetResult();
        return ValueTask.CompletedTask;
    }
}
