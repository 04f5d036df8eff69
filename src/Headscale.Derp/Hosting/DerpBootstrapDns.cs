using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Headscale.Derp.Map;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace Headscale.Derp.Hosting;

/// <summary>
/// <c>/bootstrap-dns</c> (derp-protocol.md §6): clients whose own DNS is broken ask a DERP server for the addresses of the
/// DERP map's host names. As headscale does, the answer always holds every host name of the current map that resolves
/// (<c>{"name":["ip",…],…}</c>); the <c>q</c> parameter is validated but never resolved, so this is no open resolver.
/// Answers are cached for <see cref="CacheDuration"/>, so a burst of requests costs one round of lookups.
/// </summary>
public sealed class DerpBootstrapDns
{
    /// <summary>How long one round of lookups is served before the names are resolved again.</summary>
    public static readonly TimeSpan CacheDuration = TimeSpan.FromMinutes(1);

    private static readonly TimeSpan LookupTimeout = TimeSpan.FromSeconds(3);

    private readonly Func<IEnumerable<string>> _hostNames;
    private readonly Func<string, CancellationToken, Task<IPAddress[]>> _resolve;
    private readonly TimeProvider _clock;
    private readonly SemaphoreSlim _refreshing = new(1, 1);
    private volatile CachedAnswer? _cached;

    /// <param name="hostNames">The host names to publish (the DERP map's nodes); IP literals among them are skipped.</param>
    /// <param name="resolve">The lookup; the system resolver when null.</param>
    public DerpBootstrapDns(Func<IEnumerable<string>> hostNames, Func<string, CancellationToken, Task<IPAddress[]>>? resolve = null,
        TimeProvider? clock = null)
    {
        _hostNames = hostNames;
        _resolve = resolve ?? ((name, ct) => Dns.GetHostAddressesAsync(name, ct));
        _clock = clock ?? TimeProvider.System;
    }

    /// <summary>The host names of every node of <paramref name="map"/>, once each.</summary>
    public static IEnumerable<string> HostNamesOf(DerpMap? map) =>
        (map?.Regions?.Values ?? Enumerable.Empty<DerpRegion?>()).Where(r => r is not null).SelectMany(r => r!.Nodes).Select(n => n.HostName)
            .Where(h => !string.IsNullOrWhiteSpace(h)).Distinct(StringComparer.OrdinalIgnoreCase);

    /// <summary>The JSON answer, from the cache while it is fresh.</summary>
    public async Task<byte[]> AnswerAsync(CancellationToken cancellationToken)
    {
        if (_cached is { } fresh && fresh.ExpiresAt > _clock.GetUtcNow()) return fresh.Json;
        await _refreshing.WaitAsync(cancellationToken);
        try
        {
            if (_cached is { } refreshed && refreshed.ExpiresAt > _clock.GetUtcNow()) return refreshed.Json;
            var json = await ResolveAllAsync(cancellationToken);
            _cached = new CachedAnswer(json, _clock.GetUtcNow() + CacheDuration);
            return json;
        }
        finally
        {
            _refreshing.Release();
        }
    }

    private async Task<byte[]> ResolveAllAsync(CancellationToken cancellationToken)
    {
        var names = _hostNames().Where(n => !IPAddress.TryParse(n, out _)).ToArray();
        var lookups = names.Select(name => LookupAsync(name, cancellationToken)).ToArray();
        var results = await Task.WhenAll(lookups);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            for (var i = 0; i < names.Length; i++)
            {
                if (results[i].Length == 0) continue;
                json.WriteStartArray(names[i]);
                foreach (var address in results[i]) json.WriteStringValue(address.ToString());
                json.WriteEndArray();
            }
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }

    private async Task<IPAddress[]> LookupAsync(string name, CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(LookupTimeout);
        try
        {
            var addresses = await _resolve(name, timeout.Token);
            return [.. addresses.Select(a => a.IsIPv4MappedToIPv6 ? a.MapToIPv4() : a).Distinct()];
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ArgumentException)
        {
            if (cancellationToken.IsCancellationRequested) throw;
            return []; // A name that does not resolve is left out, as a missing entry.
        }
    }

    /// <summary><c>GET</c>/<c>HEAD /bootstrap-dns[?q=name]</c>.</summary>
    internal static async Task HandleAsync(HttpContext context)
    {
        if (!(HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method)))
        {
            context.Response.StatusCode = StatusCodes.Status405MethodNotAllowed;
            await context.Response.WriteAsync("bootstrap-dns answers GET only");
            return;
        }

        var query = context.Request.Query["q"];
        if (query.Count > 1 || (query.Count == 1 && !IsValidHostName(query[0])))
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsync("bootstrap-dns: q must be one DNS name (letters, digits, '-', '.'; at most 253 characters)");
            return;
        }

        var service = context.RequestServices.GetService<DerpBootstrapDns>();
        var body = service is null ? "{}"u8.ToArray() : await service.AnswerAsync(context.RequestAborted);
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        context.Response.Headers.Connection = "close";
        context.Response.ContentLength = body.Length;
        if (HttpMethods.IsGet(context.Request.Method)) await context.Response.Body.WriteAsync(body, context.RequestAborted);
    }

    internal static bool IsValidHostName(string? name)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 253) return false;
        foreach (var c in name)
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '.'))
                return false;
        return true;
    }

    private sealed record CachedAnswer(byte[] Json, DateTimeOffset ExpiresAt);
}
