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

    /// <summary>
    /// How long a ts2021 connection may carry no request before the server closes it with GOAWAY (Kestrel's keep-alive
    /// timeout, which closed idle ts2021 connections while Kestrel served the inner HTTP/2). A map long poll is a request,
    /// so a connected node's connection is never idle; a client opens a new connection when it needs one.
    /// <see cref="Timeout.InfiniteTimeSpan"/> keeps idle connections open.
    /// </summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(130);

    /// <summary>Whether the early payload (EarlyNoise with a fresh node-key challenge) is sent on plain upgrades.</summary>
    public bool SendEarlyPayload { get; set; } = true;

    /// <summary>Path prefix served only inside Noise and refused (404) on the outer listener.</summary>
    public string InnerPathPrefix { get; set; } = "/machine";
}
