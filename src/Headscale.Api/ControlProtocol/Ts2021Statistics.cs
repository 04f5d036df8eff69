namespace Headscale.Api.ControlProtocol;

/// <summary>Counters of the ts2021 endpoint, for metrics and for tests that check nothing leaks.</summary>
public sealed class Ts2021Statistics
{
    private long _active;
    private long _established;
    private long _rejected;
    private long _broken;
    private long _takenFromConnection;

    /// <summary>Upgraded connections whose handler is still running (each holds a socket).</summary>
    public long ActiveConnections => Interlocked.Read(ref _active);

    /// <summary>Connections that completed the handshake and were handed to HTTP/2.</summary>
    public long Established => Interlocked.Read(ref _established);

    /// <summary>Upgrades refused before HTTP/2 (bad request, bad initiation, too old, timeout).</summary>
    public long Rejected => Interlocked.Read(ref _rejected);

    /// <summary>Established connections that ended because the client broke the record protocol.</summary>
    public long Broken => Interlocked.Read(ref _broken);

    /// <summary>Upgrades taken off the connection before the HTTP/1.1 server made a request of them.</summary>
    public long UpgradesTakenFromConnection => Interlocked.Read(ref _takenFromConnection);

    internal void UpgradeTakenFromConnection() => Interlocked.Increment(ref _takenFromConnection);
    internal void ConnectionOpened() => Interlocked.Increment(ref _active);
    internal void ConnectionClosed() => Interlocked.Decrement(ref _active);
    internal void HandshakeSucceeded() => Interlocked.Increment(ref _established);
    internal void UpgradeRejected() => Interlocked.Increment(ref _rejected);
    internal void TransportBroken() => Interlocked.Increment(ref _broken);
}
