namespace Headscale.Api.ControlProtocol;

/// <summary>Limits of the ts2021 transport. Bound by the integrator; the defaults follow the spec and Headscale 0.27.</summary>
public sealed class Ts2021Options
{
    /// <summary>Oldest client capability version served (Headscale 0.27: 90, Tailscale v1.64). Older clients are closed after the 101.</summary>
    public int MinimumCapabilityVersion { get; set; } = 90;

    /// <summary>Time a client has, after the handshake response, to send its first record (the HTTP/2 preface).</summary>
    public TimeSpan HandshakeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Largest request body inside Noise (headscale caps it at 1 MiB).</summary>
    public long MaxRequestBodySize { get; set; } = 1024 * 1024;

    /// <summary>
    /// Concurrent HTTP/2 streams per connection (SETTINGS_MAX_CONCURRENT_STREAMS); a Tailscale client multiplexes every
    /// request on one connection.
    /// </summary>
    public int MaxConcurrentStreams { get; set; } = 1024;

    /// <summary>Whether the early payload (EarlyNoise with a fresh node-key challenge) is sent on plain upgrades.</summary>
    public bool SendEarlyPayload { get; set; } = true;

    /// <summary>Path prefix served only inside Noise and refused (404) on the outer listener.</summary>
    public string InnerPathPrefix { get; set; } = "/machine";
}
