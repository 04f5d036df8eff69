using System.Diagnostics.Metrics;

namespace Headscale.Derp.Server;

/// <summary>
/// DERP instruments on the <c>Headscale.Derp</c> <see cref="Meter"/>. Instrument names are short because prometheus-net's
/// meter adapter (on by default) prefixes the meter name: <c>connections</c> is exported as the gauge
/// <c>headscale_derp_connections</c>, <c>packets_dropped</c> as <c>headscale_derp_packets_dropped{reason="queue_full"}</c>.
/// </summary>
public static class DerpMetrics
{
    public const string MeterName = "Headscale.Derp";
    private static readonly Meter Meter = new(MeterName);

    // Open connections are observed, not counted with Add(±1): an exporter that starts listening after clients connected
    // (prometheus-net attaches on its first scrape) would otherwise report a gauge offset by the connections it missed.
    private static long _connections;
    private static long _meshConnections;

    private static readonly ObservableUpDownCounter<long> CurrentConnections =
        Meter.CreateObservableUpDownCounter("connections", () => Volatile.Read(ref _connections),
            description: "DERP connections currently open (after handshake).");
    private static readonly ObservableUpDownCounter<long> CurrentMeshConnections =
        Meter.CreateObservableUpDownCounter("mesh_connections", () => Volatile.Read(ref _meshConnections),
            description: "Mesh peers currently connected to this server.");

    /// <summary>Open connections of every server in the process, as exported by <c>headscale_derp_connections</c>.</summary>
    public static long OpenConnections => Volatile.Read(ref _connections);

    internal static void ConnectionOpened(bool meshPeer)
    {
        Interlocked.Increment(ref _connections);
        if (meshPeer) Interlocked.Increment(ref _meshConnections);
    }

    internal static void ConnectionClosed(bool meshPeer)
    {
        Interlocked.Decrement(ref _connections);
        if (meshPeer) Interlocked.Decrement(ref _meshConnections);
    }
    internal static readonly Counter<long> Accepted =
        Meter.CreateCounter<long>("accepts", description: "Connections that completed the DERP handshake.");
    internal static readonly Counter<long> Rejected =
        Meter.CreateCounter<long>("rejects", description: "Connections closed during the handshake, by reason.");
    internal static readonly Counter<long> PacketsReceived =
        Meter.CreateCounter<long>("packets_received", description: "Packets received from clients and mesh peers.");
    internal static readonly Counter<long> PacketsSent =
        Meter.CreateCounter<long>("packets_sent", description: "Packets written to local clients.");
    internal static readonly Counter<long> PacketsForwarded =
        Meter.CreateCounter<long>("packets_forwarded", description: "Packets forwarded to another server of the mesh.");
    internal static readonly Counter<long> PacketsDropped =
        Meter.CreateCounter<long>("packets_dropped", description: "Packets dropped, by reason.");
    internal static readonly Counter<long> BytesReceived =
        Meter.CreateCounter<long>("bytes_received", "By", "Packet payload bytes received.");
    internal static readonly Counter<long> BytesSent =
        Meter.CreateCounter<long>("bytes_sent", "By", "Packet payload bytes written to clients.");
    internal static readonly Counter<long> ProtocolErrors =
        Meter.CreateCounter<long>("protocol_errors", description: "Connections closed for breaking the protocol.");
    internal static readonly Counter<long> StunRequests =
        Meter.CreateCounter<long>("stun_requests", description: "STUN packets, by result (answered, ignored).");

    /// <summary>Drop reasons; each is a label value of <c>headscale_derp_packets_dropped</c>.</summary>
    internal static class DropReason
    {
        public static readonly KeyValuePair<string, object?> UnknownDestination = new("reason", "unknown_dest");
        public static readonly KeyValuePair<string, object?> QueueFull = new("reason", "queue_full");
        public static readonly KeyValuePair<string, object?> DiscoQueueFull = new("reason", "disco_queue_full");
        public static readonly KeyValuePair<string, object?> ControlQueueFull = new("reason", "control_queue_full");
        public static readonly KeyValuePair<string, object?> ClientGone = new("reason", "gone");
        public static readonly KeyValuePair<string, object?> MeshQueueFull = new("reason", "mesh_queue_full");
        public static readonly KeyValuePair<string, object?> WriteTimeout = new("reason", "write_timeout");
    }

    internal static class RejectReason
    {
        public static readonly KeyValuePair<string, object?> Protocol = new("reason", "protocol");
        public static readonly KeyValuePair<string, object?> NotAllowed = new("reason", "not_allowed");
        public static readonly KeyValuePair<string, object?> Timeout = new("reason", "timeout");
    }

    internal static class StunResult
    {
        public static readonly KeyValuePair<string, object?> Answered = new("result", "answered");
        public static readonly KeyValuePair<string, object?> Ignored = new("result", "ignored");
    }
}
