using System.Net;
using System.Net.Sockets;
using Headscale.Derp.Server;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Headscale.Derp.Stun;

/// <summary>
/// UDP STUN responder: answers Binding Requests with XOR-MAPPED-ADDRESS and silently ignores everything else.
/// One receive loop; <see cref="SocketAddress"/>-based I/O so no allocation per packet.
/// </summary>
public sealed class StunServer : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly ILogger _logger;

    public StunServer(IPEndPoint listen, ILogger<StunServer>? logger = null)
    {
        _logger = (ILogger?)logger ?? NullLogger.Instance;
        _socket = new Socket(listen.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        if (listen.AddressFamily == AddressFamily.InterNetworkV6) _socket.DualMode = true;
        _socket.Bind(listen);
        LocalEndPoint = (IPEndPoint)_socket.LocalEndPoint!;
    }

    /// <summary>The bound address (with the real port when 0 was asked for).</summary>
    public IPEndPoint LocalEndPoint { get; }

    /// <summary>Parses <c>host:port</c> / <c>[v6]:port</c> as in <c>derp.server.stun_listen_addr</c>.</summary>
    public static IPEndPoint ParseListenAddress(string text)
    {
        if (!IPEndPoint.TryParse(text.Trim(), out var endPoint) || !text.Contains(':'))
            throw new FormatException($"derp.server.stun_listen_addr '{text}' must be an IP address and port, e.g. 0.0.0.0:3478.");
        return endPoint;
    }

    public async Task RunAsync(CancellationToken cancellationToken)
    {
        DerpLog.StunListening(_logger, LocalEndPoint.ToString());
        var receive = new byte[2048];
        var response = new byte[StunMessage.MaxResponseLength];
        var transactionId = new byte[StunMessage.TransactionIdLength];
        var address = new SocketAddress(_socket.AddressFamily);
        var ip = new byte[16];
        while (!cancellationToken.IsCancellationRequested)
        {
            int received;
            try
            {
                received = await _socket.ReceiveFromAsync(receive, SocketFlags.None, address, cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.MessageSize)
            {
                // ICMP port-unreachable from an earlier reply, or an oversized datagram: not fatal for a UDP server.
                continue;
            }
            if (!StunMessage.TryParseBindingRequest(receive.AsSpan(0, received), transactionId)
                || !TryReadSource(address, ip, out var ipLength, out var port))
            {
                DerpMetrics.StunRequests.Add(1, DerpMetrics.StunResult.Ignored);
                continue;
            }
            var length = StunMessage.WriteBindingResponse(response, transactionId, ip.AsSpan(0, ipLength), port);
            try
            {
                await _socket.SendToAsync(response.AsMemory(0, length), SocketFlags.None, address, cancellationToken);
                DerpMetrics.StunRequests.Add(1, DerpMetrics.StunResult.Answered);
            }
            catch (SocketException)
            {
                // The sender is unreachable; nothing to do for a stateless responder.
            }
        }
    }

    /// <summary>Reads IP and port from a sockaddr (IPv4-mapped IPv6 sources are answered as IPv4).</summary>
    private static bool TryReadSource(SocketAddress address, Span<byte> ip, out int ipLength, out ushort port)
    {
        var buffer = address.Buffer.Span;
        port = (ushort)(buffer[2] << 8 | buffer[3]);
        if (address.Family == AddressFamily.InterNetwork)
        {
            buffer.Slice(4, 4).CopyTo(ip);
            ipLength = 4;
            return true;
        }
        if (address.Family == AddressFamily.InterNetworkV6 && buffer.Length >= 24)
        {
            var v6 = buffer.Slice(8, 16);
            if (v6[..10].IndexOfAnyExcept((byte)0) < 0 && v6[10] == 0xff && v6[11] == 0xff)
            {
                v6[12..].CopyTo(ip);
                ipLength = 4;
            }
            else
            {
                v6.CopyTo(ip);
                ipLength = 16;
            }
            return true;
        }
        ipLength = 0;
        return false;
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}

/// <summary>Runs <see cref="StunServer"/> for the lifetime of the host.</summary>
public sealed class StunHostedService(IPEndPoint listen, ILogger<StunServer>? logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await using var server = new StunServer(listen, logger);
        await server.RunAsync(stoppingToken);
    }
}
