using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;
using BenchmarkDotNet.Attributes;
using Headscale.Protocol.Keys;
using Headscale.Protocol.Noise;

namespace Headscale.Bench.Transport;

/// <summary>
/// The ts2021 Noise layer over loopback TCP: full handshakes per second (TCP connect, initiation, response, key
/// derivation on both sides) and plaintext throughput of one established connection (records of at most 4077 bytes,
/// ChaCha20-Poly1305 both ways). HTTP/2 and the HTTP upgrade are not part of these numbers.
/// </summary>
[MemoryDiagnoser]
public class NoiseTransportBenchmarks
{
    public const int TransferBytes = 16 * 1024 * 1024;

    private readonly MachinePrivateKey _serverKey = MachinePrivateKey.Generate();
    private readonly MachinePrivateKey _clientKey = MachinePrivateKey.Generate();
    private readonly byte[] _payload = new byte[64 * 1024];
    private TcpListener _listener = null!;
    private CancellationTokenSource _stop = null!;
    private Task _acceptLoop = null!;
    private Socket _bulkSocket = null!;
    private NoiseConnection _bulk = null!;

    [GlobalSetup]
    public async Task SetupAsync()
    {
        Random.Shared.NextBytes(_payload);
        _stop = new CancellationTokenSource();
        _listener = new TcpListener(IPAddress.Loopback, 0);
        _listener.Start(512);
        _acceptLoop = AcceptLoopAsync();
        (_bulkSocket, _bulk) = await ConnectAsync();
    }

    [GlobalCleanup]
    public async Task CleanupAsync()
    {
        await _bulk.DisposeAsync();
        _bulkSocket.Dispose();
        _stop.Cancel();
        _listener.Stop();
        await _acceptLoop.ContinueWith(static _ => { }, TaskScheduler.Default);
    }

    [Benchmark(Description = "handshake over loopback TCP")]
    public async Task Handshake()
    {
        var (socket, connection) = await ConnectAsync();
        await connection.DisposeAsync();
        socket.Dispose();
    }

    [Benchmark(Description = "16 MiB through one Noise connection", OperationsPerInvoke = 1)]
    public async Task Transfer()
    {
        var output = _bulk.Output;
        for (var sent = 0; sent < TransferBytes; sent += _payload.Length)
        {
            await output.WriteAsync(_payload);
        }

        // The server answers one byte per completed transfer, so the timing covers delivery, not just buffering.
        var result = await _bulk.Input.ReadAsync();
        _bulk.Input.AdvanceTo(result.Buffer.GetPosition(1));
    }

    private async Task<(Socket Socket, NoiseConnection Connection)> ConnectAsync()
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync((IPEndPoint)_listener.LocalEndpoint);
        var stream = new NetworkStream(socket, ownsSocket: false);
        var initiation = new byte[NoiseMessages.InitiationSize];
        using var initiator = NoiseHandshake.Initiate(142, _clientKey, _serverKey.PublicKey, initiation);
        await stream.WriteAsync(initiation);
        var response = new byte[NoiseMessages.ResponseSize];
        await stream.ReadExactlyAsync(response);
        var keys = initiator.Complete(response);
        return (socket, NoiseConnection.Start(new Pipe(stream), keys));
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(_stop.Token);
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                return;
            }

            _ = ServeAsync(socket);
        }
    }

    private async Task ServeAsync(Socket socket)
    {
        socket.NoDelay = true;
        await using var stream = new NetworkStream(socket, ownsSocket: true);
        try
        {
            var initiation = new byte[NoiseMessages.InitiationSize];
            await stream.ReadExactlyAsync(initiation);
            var response = new byte[NoiseMessages.ResponseSize];
            var result = NoiseHandshake.Respond(initiation, _serverKey, response);
            await stream.WriteAsync(response);
            await using var connection = NoiseConnection.Start(new Pipe(stream), result.Keys!);
            var received = 0L;
            while (true)
            {
                var read = await connection.Input.ReadAsync(_stop.Token);
                received += read.Buffer.Length;
                connection.Input.AdvanceTo(read.Buffer.End);
                for (; received >= TransferBytes; received -= TransferBytes)
                {
                    await connection.Output.WriteAsync(new byte[] { 1 }, _stop.Token);
                }

                if (read.IsCompleted)
                {
                    return;
                }
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or NoiseProtocolException or EndOfStreamException)
        {
        }
    }

    private sealed class Pipe(Stream stream) : IDuplexPipe
    {
        public PipeReader Input { get; } = PipeReader.Create(stream, new StreamPipeReaderOptions(leaveOpen: true));

        public PipeWriter Output { get; } = PipeWriter.Create(stream, new StreamPipeWriterOptions(leaveOpen: true));
    }
}
