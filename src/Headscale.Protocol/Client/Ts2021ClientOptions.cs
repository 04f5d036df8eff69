using System.Buffers;
using System.IO.Pipelines;
using Headscale.Protocol.Keys;
using Headscale.Protocol.Noise;

namespace Headscale.Protocol.Client;

/// <summary>How a <see cref="Ts2021Client"/> reaches and authenticates to a control server.</summary>
public sealed record Ts2021ClientOptions
{
    /// <summary>The control URL, e.g. <c>http://127.0.0.1:8080</c>; the client dials its host and port and POSTs <c>/ts2021</c>.</summary>
    public required Uri ServerUrl { get; init; }

    /// <summary>This client's machine identity, authenticated by the handshake.</summary>
    public required MachinePrivateKey MachineKey { get; init; }

    /// <summary>The server's Noise public key, from <c>GET /key</c> (<see cref="Ts2021Client.FetchServerKeyAsync"/>).</summary>
    public required MachinePublicKey ServerKey { get; init; }

    /// <summary>Capability version sent in the initiation header and bound into the prologue.</summary>
    public ushort ProtocolVersion { get; init; } = 142;

    /// <summary>Limit on TCP connect + upgrade + handshake, as Tailscale's client has.</summary>
    public TimeSpan HandshakeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Dial the WebSocket variant (browser clients): GET <c>/ts2021</c> with the initiation in the query string.</summary>
    public bool UseWebSocket { get; init; }

    /// <summary>The <c>:authority</c> of inner requests; defaults to the server URL's authority.</summary>
    public string? Authority { get; init; }

    /// <summary>
    /// Extra header lines for the plain upgrade request (e.g. a proxy's <c>X-Forwarded-For</c>), each as
    /// <c>Name: value</c>; a line with a CR or LF is refused.
    /// </summary>
    public IReadOnlyList<string> ExtraUpgradeHeaders { get; init; } = [];

    /// <summary>Where the connection's pipes (socket reads and writes, Noise plaintext) take their buffers; null: the shared pool.</summary>
    public MemoryPool<byte>? BufferPool { get; init; }

    internal StreamPipeReaderOptions WireReaderOptions => new(pool: BufferPool, leaveOpen: true);

    internal StreamPipeWriterOptions WireWriterOptions => new(pool: BufferPool, leaveOpen: true);

    internal NoiseConnectionOptions NoiseOptions
    {
        get
        {
            if (BufferPool is null)
            {
                return new NoiseConnectionOptions();
            }

            var defaults = NoiseConnectionOptions.DefaultPipeOptions;
            return new NoiseConnectionOptions
            {
                PlaintextPipeOptions = new PipeOptions(
                    BufferPool,
                    pauseWriterThreshold: defaults.PauseWriterThreshold,
                    resumeWriterThreshold: defaults.ResumeWriterThreshold,
                    minimumSegmentSize: defaults.MinimumSegmentSize,
                    useSynchronizationContext: false),
            };
        }
    }
}
