using System.IO.Pipelines;
using System.Net;
using System.Net.WebSockets;
using Headscale.Api.ControlProtocol.InnerHttp2;
using Headscale.Protocol.Crypto;
using Headscale.Protocol.Keys;
using Headscale.Protocol.Noise;
using Microsoft.AspNetCore.Connections.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Headscale.Api.ControlProtocol;

/// <summary>
/// Serves <c>/ts2021</c>: validates the upgrade, switches protocols (HTTP/1.1 101 or WebSocket), answers the Noise
/// initiation, sends the early payload, and serves the decrypted stream's HTTP/2 (<see cref="InnerHttp2Connection"/>). The
/// request stays open for the lifetime of the connection.
/// </summary>
public sealed class Ts2021Handler(
    INoiseKeyProvider keys,
    InnerApplication application,
    IHostApplicationLifetime lifetime,
    Ts2021Statistics statistics,
    IOptions<Ts2021Options> options,
    ILoggerFactory loggers,
    ILogger<Ts2021Handler> logger)
{
    public const string UpgradeHeaderValue = "tailscale-control-protocol";
    public const string HandshakeHeaderName = "X-Tailscale-Handshake";

    private readonly Ts2021Options _options = options.Value;
    private readonly ILogger _connectionLogger = loggers.CreateLogger<InnerHttp2Connection>();

    public async Task HandleAsync(HttpContext context)
    {
        var remote = context.Connection.RemoteIpAddress;
        var upgrade = context.Request.Headers.Upgrade.ToString();
        if (upgrade.Length == 0)
        {
            await RefuseAsync(context, "missing next protocol");
            return;
        }

        if (upgrade.Equals("websocket", StringComparison.OrdinalIgnoreCase))
        {
            await HandleWebSocketAsync(context);
            return;
        }

        if (!upgrade.Equals(UpgradeHeaderValue, StringComparison.OrdinalIgnoreCase))
        {
            await RefuseAsync(context, $"unknown next protocol \"{Truncate(upgrade)}\"");
            return;
        }

        var handshakeHeader = context.Request.Headers[HandshakeHeaderName].ToString();
        if (handshakeHeader.Length == 0)
        {
            await RefuseAsync(context, $"missing {HandshakeHeaderName} header");
            return;
        }

        if (!TryDecodeInitiation(handshakeHeader, out var initiation))
        {
            await RefuseAsync(context, $"{HandshakeHeaderName} is not valid base64");
            return;
        }

        var upgradeFeature = context.Features.Get<IHttpUpgradeFeature>();
        if (upgradeFeature is not { IsUpgradableRequest: true })
        {
            await RefuseAsync(context, "make request over HTTP/1");
            return;
        }

        statistics.ConnectionOpened();
        try
        {
            context.Response.Headers.Upgrade = UpgradeHeaderValue;
            await using var raw = await upgradeFeature.UpgradeAsync();
            // Once the 101 is out, the connection's bytes are ours alone: Noise reads and writes the socket's own pipes
            // (the upgrade stream would put a stream, a stream pipe and Kestrel's response writer between them).
            var wire = context.Features.Get<IConnectionTransportFeature>()?.Transport is { } transport
                ? new WirePipe(transport.Input, transport.Output, OwnedByHost: true)
                : StreamWire(raw, zeroByteReads: true);
            await ServeAsync(wire, initiation, _options.SendEarlyPayload, Endpoints(context), context.RequestAborted, isWebSocket: false);
        }
        finally
        {
            statistics.ConnectionClosed();
        }
    }

    /// <summary>
    /// Serves an upgrade taken straight off the connection (<see cref="Ts2021ConnectionMiddleware"/>), before the HTTP/1.1
    /// server made a request of it: answers 101 and runs Noise on the connection's own pipes. The connection then holds
    /// no HTTP/1.1 connection, request, headers or context for the hours it stays open.
    /// </summary>
    internal async Task ServeUpgradedConnectionAsync(IDuplexPipe transport, byte[] initiation, IPEndPoint? remote, IPEndPoint? local, CancellationToken aborted)
    {
        statistics.ConnectionOpened();
        statistics.UpgradeTakenFromConnection();
        try
        {
            await transport.Output.WriteAsync(SwitchingProtocolsHead, aborted);
            await ServeAsync(
                new WirePipe(transport.Input, transport.Output, OwnedByHost: true), initiation, _options.SendEarlyPayload, (remote, local), aborted, isWebSocket: false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            // Gone before its 101 was written.
            Log.HandshakeAborted(logger, remote?.Address, ex.Message);
        }
        finally
        {
            statistics.ConnectionClosed();
        }
    }

    private static readonly byte[] SwitchingProtocolsHead =
        "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: tailscale-control-protocol\r\n\r\n"u8.ToArray();

    private static (IPEndPoint? Remote, IPEndPoint? Local) Endpoints(HttpContext context) => (
        context.Connection.RemoteIpAddress is { } ip ? new IPEndPoint(ip, context.Connection.RemotePort) : null,
        context.Connection.LocalIpAddress is { } local ? new IPEndPoint(local, context.Connection.LocalPort) : null);

    private async Task HandleWebSocketAsync(HttpContext context)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            await RefuseAsync(context, "WebSocket upgrade without WebSocket support in the pipeline or not a GET");
            return;
        }

        statistics.ConnectionOpened();
        try
        {
            var offered = context.WebSockets.WebSocketRequestedProtocols.Contains(UpgradeHeaderValue);
            using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
            {
                SubProtocol = offered ? UpgradeHeaderValue : null,
                DangerousEnableCompression = false,
            });

            string? refusal = null;
            var handshake = context.Request.Query[HandshakeHeaderName].ToString();
            byte[] initiation = [];
            if (!offered)
            {
                refusal = $"WebSocket subprotocol {UpgradeHeaderValue} not offered";
            }
            else if (handshake.Length == 0)
            {
                refusal = $"missing {HandshakeHeaderName} query parameter";
            }
            else if (!TryDecodeInitiation(handshake, out initiation))
            {
                refusal = $"{HandshakeHeaderName} query parameter is not valid base64";
            }

            if (refusal is not null)
            {
                statistics.UpgradeRejected();
                Log.UpgradeRefused(logger, context.Connection.RemoteIpAddress, refusal);
                await socket.CloseOutputAsync(WebSocketCloseStatus.PolicyViolation, refusal, context.RequestAborted);
                return;
            }

            // Tailscale's server sends no early payload on the WebSocket path.
            await using var stream = WebSocketStream.Create(socket, WebSocketMessageType.Binary, ownsWebSocket: false);
            // WebSocket reads keep a buffer: a zero-byte read would not wait for a message.
            await ServeAsync(StreamWire(stream, zeroByteReads: false), initiation, earlyPayload: false, Endpoints(context), context.RequestAborted, isWebSocket: true);
        }
        finally
        {
            statistics.ConnectionClosed();
        }
    }

    /// <summary>Pipes over an upgraded stream; zero-byte reads let an idle connection wait without holding a read buffer.</summary>
    private static WirePipe StreamWire(Stream raw, bool zeroByteReads) => new(
        PipeReader.Create(raw, new StreamPipeReaderOptions(leaveOpen: true, useZeroByteReads: zeroByteReads)),
        PipeWriter.Create(raw, new StreamPipeWriterOptions(leaveOpen: true)),
        OwnedByHost: false);

    private async Task ServeAsync(
        WirePipe wire, byte[] initiation, bool earlyPayload, (IPEndPoint? Remote, IPEndPoint? Local) endpoints, CancellationToken aborted, bool isWebSocket)
    {
        var remote = endpoints.Remote?.Address;
        try
        {
            if (await EstablishAsync(wire, initiation, earlyPayload, endpoints, aborted, isWebSocket) is not { } established)
            {
                return;
            }

            await using var noise = established.Noise;
            var connection = established.Connection;
            using (lifetime.ApplicationStopping.Register(static state => ((InnerHttp2Connection)state!).BeginShutdown(), connection))
            {
                await connection.RunAsync();
            }

            // RunAsync completed the plaintext writer; let the Noise loop send what is left (a GOAWAY) before disposing.
            await noise.SendCompletion.WaitAsync(_options.HandshakeTimeout).ContinueWith(static _ => { }, TaskScheduler.Default);

            if (noise.Fault is { } fault)
            {
                statistics.TransportBroken();
                Log.TransportBroken(logger, connection.Control.MachineKey.ToString(), remote, fault.Message);
            }
            else
            {
                Log.Closed(logger, connection.Control.MachineKey.ToString(), remote, noise.RecordsReceived, noise.RecordsSent);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or WebSocketException)
        {
            Log.HandshakeAborted(logger, remote, ex.Message);
        }
        finally
        {
            // The socket's own pipes are the host's: it closes the connection when this request ends.
            if (!wire.OwnedByHost)
            {
                await wire.Input.CompleteAsync();
                await wire.Output.CompleteAsync();
            }
        }
    }

    /// <summary>
    /// Answers the initiation and starts Noise and the inner HTTP/2 server; null when the client was refused. Its own
    /// method so that the handshake's keys, response and key text are not kept for the hours the connection stays open.
    /// </summary>
    private async Task<(NoiseConnection Noise, InnerHttp2Connection Connection)?> EstablishAsync(
        WirePipe wire, byte[] initiation, bool earlyPayload, (IPEndPoint? Remote, IPEndPoint? Local) endpoints, CancellationToken aborted, bool isWebSocket)
    {
        var remote = endpoints.Remote?.Address;
        var response = new byte[NoiseMessages.ResponseSize];
        var result = NoiseHandshake.Respond(initiation, keys.NoiseKey, response);
        if (!result.Succeeded)
        {
            statistics.UpgradeRejected();
            var text = result.ErrorMessageText;
            Log.InitiationRefused(logger, remote, text ?? "initiation failed authentication");
            if (text is not null)
            {
                await wire.Output.WriteAsync(NoiseMessages.CreateErrorMessage(text), aborted);
            }

            return null;
        }

        var transportKeys = result.Keys!;
        if (result.ProtocolVersion < _options.MinimumCapabilityVersion)
        {
            // Like headscale's early-write hook: the response is never sent, the client sees EOF after the 101.
            statistics.UpgradeRejected();
            Log.VersionTooOld(logger, transportKeys.PeerStaticKey.ToString(), remote, result.ProtocolVersion, _options.MinimumCapabilityVersion);
            return null;
        }

        await wire.Output.WriteAsync(response, aborted);
        var noise = NoiseConnection.Start(
            wire, transportKeys, new NoiseConnectionOptions { FirstRecordTimeout = _options.HandshakeTimeout, SealOnFlush = true });
        try
        {
            ChallengePublicKey? challenge = null;
            if (earlyPayload)
            {
                challenge = NewChallenge();
                EarlyPayload.Write(noise.Output, new EarlyNoise(challenge.Value));
                await noise.Output.FlushAsync(aborted);
            }

            var feature = new ControlConnectionFeature(
                transportKeys.PeerStaticKey,
                transportKeys.ProtocolVersion,
                challenge,
                transportKeys.HandshakeHash,
                endpoints.Remote,
                isWebSocket);
            var connection = new InnerHttp2Connection(
                noise,
                feature,
                endpoints.Local,
                application,
                new InnerHttp2Limits(_options.MaxConcurrentStreams, _options.MaxRequestBodySize) { IdleTimeout = _options.IdleTimeout },
                _connectionLogger);
            statistics.HandshakeSucceeded();
            Log.Established(logger, transportKeys.PeerStaticKey.ToString(), remote, transportKeys.ProtocolVersion, isWebSocket);
            return (noise, connection);
        }
        catch
        {
            await noise.DisposeAsync();
            throw;
        }
    }

    private async Task RefuseAsync(HttpContext context, string reason)
    {
        statistics.UpgradeRejected();
        Log.UpgradeRefused(logger, context.Connection.RemoteIpAddress, reason);
        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        context.Response.ContentType = "text/plain; charset=utf-8";
        await context.Response.WriteAsync(reason, context.RequestAborted);
    }

    internal static bool TryDecodeInitiation(string base64, out byte[] initiation)
    {
        // Larger than any valid initiation, but decoded anyway so the client gets the precise "wrong size" error message.
        var buffer = new byte[(base64.Length * 3 / 4) + 3];
        if (base64.Length > 8192 || !Convert.TryFromBase64String(base64, buffer, out var written))
        {
            initiation = [];
            return false;
        }

        initiation = buffer.AsSpan(0, written).ToArray();
        return true;
    }

    private static ChallengePublicKey NewChallenge()
    {
        Span<byte> privateKey = stackalloc byte[32];
        Span<byte> publicKey = stackalloc byte[32];
        X25519.GeneratePrivateKey(privateKey);
        X25519.DerivePublicKey(privateKey, publicKey);
        System.Security.Cryptography.CryptographicOperations.ZeroMemory(privateKey);
        return new ChallengePublicKey(publicKey);
    }

    private static string Truncate(string value) => value.Length <= 64 ? value : value[..64] + "…";

    private sealed record WirePipe(PipeReader Input, PipeWriter Output, bool OwnedByHost) : IDuplexPipe;
}
