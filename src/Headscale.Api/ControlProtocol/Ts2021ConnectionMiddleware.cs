using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Headscale.Api.ControlProtocol;

/// <summary>
/// Takes plain ts2021 upgrades off a listener's connections before Kestrel's HTTP/1.1 server sees them (decision 0911).
/// A control connection stays open for as long as its node is online; served as an HTTP/1.1 request it keeps Kestrel's
/// connection, request and response headers, two contexts and the request's async frames for all that time (about
/// 5 KiB per connection). The first bytes of each connection are looked at without consuming them: a well-formed
/// <c>POST /ts2021</c> upgrade (<see cref="Ts2021UpgradeHead"/>) is answered here, anything else is handed to
/// Kestrel untouched, which serves it (and refuses bad upgrades) as before.
/// </summary>
internal sealed class Ts2021ConnectionMiddleware(ConnectionDelegate next, IServiceProvider services)
{
    private Ts2021Handler? _handler;
    private ForwardedFor? _forwardedFor;
    private TimeSpan _headTimeout;

    public async Task OnConnectionAsync(ConnectionContext connection)
    {
        var (outcome, head) = await ReadHeadAsync(connection.Transport.Input);
        switch (outcome)
        {
            case UpgradeHeadOutcome.Upgrade:
                _handler ??= services.GetRequiredService<Ts2021Handler>();
                await _handler.ServeUpgradedConnectionAsync(
                    connection.Transport,
                    head.Initiation,
                    RemoteEndPoint(connection, head.ForwardedFor),
                    connection.LocalEndPoint as IPEndPoint,
                    connection.ConnectionClosed);
                break;
            case UpgradeHeadOutcome.NotOurs:
                await next(connection);
                break;
            default:
                // The head did not arrive in time, or the client left halfway: closed, as Kestrel closes such a request.
                break;
        }
    }

    /// <summary>
    /// Reads until the head is known to be an upgrade or not ours. Only an upgrade's head is consumed: for anything else
    /// the bytes stay unread (and not all examined), so Kestrel's first read returns them at once.
    /// </summary>
    private async Task<(UpgradeHeadOutcome Outcome, Ts2021UpgradeHead Head)> ReadHeadAsync(PipeReader input)
    {
        using var timeout = new CancellationTokenSource(HeadTimeout);
        var registration = timeout.Token.UnsafeRegister(static state => ((PipeReader)state!).CancelPendingRead(), input);
        SequencePosition? examined = null;
        var outcome = UpgradeHeadOutcome.NeedMore;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync();
                var buffer = result.Buffer;
                outcome = Ts2021UpgradeHead.TryParse(buffer, out var head, out var end);
                switch (outcome)
                {
                    case UpgradeHeadOutcome.Upgrade:
                        input.AdvanceTo(end);
                        examined = null;
                        return (outcome, head);
                    case UpgradeHeadOutcome.NeedMore when !result.IsCanceled && !result.IsCompleted:
                        // Everything seen, so the next read waits for more bytes.
                        input.AdvanceTo(buffer.Start, buffer.End);
                        examined = buffer.End;
                        continue;
                    case UpgradeHeadOutcome.NeedMore:
                        input.AdvanceTo(buffer.Start, buffer.End);
                        return (outcome, default);
                    default:
                        // What an earlier read examined stays examined (a reader need not accept the position moving back).
                        input.AdvanceTo(buffer.Start, examined ?? buffer.Start);
                        return (outcome, default);
                }
            }
        }
        finally
        {
            registration.Dispose();
            if (outcome != UpgradeHeadOutcome.NeedMore && timeout.IsCancellationRequested && input.TryRead(out var pending))
            {
                // The timeout fired after the last read: take its cancellation, which the next reader's first read would get.
                input.AdvanceTo(pending.Buffer.Start, examined ?? pending.Buffer.Start);
            }
        }
    }

    private TimeSpan HeadTimeout
    {
        get
        {
            if (_headTimeout == TimeSpan.Zero)
            {
                _headTimeout = services.GetService<IOptions<KestrelServerOptions>>()?.Value.Limits.RequestHeadersTimeout ?? TimeSpan.FromSeconds(30);
            }

            return _headTimeout;
        }
    }

    /// <summary>The client's address: the socket's, or the proxy's X-Forwarded-For when the socket is a trusted proxy.</summary>
    private IPEndPoint? RemoteEndPoint(ConnectionContext connection, string? forwardedFor)
    {
        var socket = connection.RemoteEndPoint as IPEndPoint;
        _forwardedFor ??= new ForwardedFor(services.GetService<IOptions<ForwardedHeadersOptions>>()?.Value);
        return _forwardedFor.Apply(socket, forwardedFor);
    }
}

/// <summary>
/// X-Forwarded-For as ASP.NET Core's forwarded-headers middleware applies it with a forward limit of one: only when the
/// options ask for it and the socket's address is a known proxy or in a known network, the last address of the header
/// replaces it; an address that does not parse leaves the socket's.
/// </summary>
internal sealed class ForwardedFor(ForwardedHeadersOptions? options)
{
    private readonly bool _enabled = options is not null && options.ForwardedHeaders.HasFlag(ForwardedHeaders.XForwardedFor);

    public IPEndPoint? Apply(IPEndPoint? socket, string? header)
    {
        if (!_enabled || socket is null || string.IsNullOrWhiteSpace(header) || !IsTrusted(socket.Address))
        {
            return socket;
        }

        var last = header[(header.LastIndexOf(',') + 1)..].Trim();
        return IPEndPoint.TryParse(last, out var forwarded) ? forwarded : socket;
    }

    private bool IsTrusted(IPAddress address)
    {
        var candidate = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        return options!.KnownProxies.Any(proxy => proxy.Equals(address) || proxy.Equals(candidate))
            || options.KnownIPNetworks.Any(network => network.Contains(address) || network.Contains(candidate));
    }
}

/// <summary>Wiring of <see cref="Ts2021ConnectionMiddleware"/>.</summary>
public static class Ts2021ConnectionExtensions
{
    /// <summary>Serves plain ts2021 upgrades on this listener straight off the connection (needs <c>AddTs2021Transport</c>).</summary>
    public static ListenOptions UseTs2021Upgrades(this ListenOptions listen)
    {
        listen.Use(next => new Ts2021ConnectionMiddleware(next, listen.ApplicationServices).OnConnectionAsync);
        return listen;
    }
}
