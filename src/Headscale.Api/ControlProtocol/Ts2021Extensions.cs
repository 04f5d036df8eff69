using Headscale.Protocol.Keys;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Headscale.Api.ControlProtocol;

/// <summary>
/// Wiring of the ts2021 transport. The composition root calls, in this order:
/// <code>
/// services.AddTs2021Transport();                       // after UseKestrel/UseKestrelCore (Kestrel adds its sockets
///                                                      // transport only if no listener factory exists yet); needs an
///                                                      // INoiseKeyProvider or a MachinePrivateKey singleton
/// builder.WebHost.ConfigureKestrel(k => k.ListenTs2021Inner());
/// app.MapTs2021();                                     // GET and POST /ts2021 on the public listener
/// app.MapGroup("/machine")...                          // inner endpoints: only reachable inside Noise
/// </code>
/// </summary>
public static class Ts2021Extensions
{
    public static IServiceCollection AddTs2021Transport(this IServiceCollection services, Action<Ts2021Options>? configure = null)
    {
        services.AddOptions<Ts2021Options>();
        if (configure is not null)
        {
            services.Configure(configure);
        }

        services.TryAddSingleton<INoiseKeyProvider>(sp => new SingletonNoiseKeyProvider(sp.GetRequiredService<MachinePrivateKey>()));
        services.TryAddSingleton<Ts2021Statistics>();
        services.TryAddSingleton<Ts2021Handler>();
        services.TryAddSingleton<Ts2021ConnectionListenerFactory>();
        services.AddSingleton<IConnectionListenerFactory>(sp => sp.GetRequiredService<Ts2021ConnectionListenerFactory>());
        services.AddTransient<IStartupFilter, Ts2021StartupFilter>();
        return services;
    }

    /// <summary>
    /// Adds Kestrel's inner HTTP/2 listener for decrypted Noise connections, and the server-wide settings it needs:
    /// alternate <c>:scheme</c> values (clients send https over cleartext h2) and enough concurrent streams per connection.
    /// </summary>
    public static KestrelServerOptions ListenTs2021Inner(this KestrelServerOptions kestrel)
    {
        var options = kestrel.ApplicationServices.GetRequiredService<IOptions<Ts2021Options>>().Value;
        kestrel.AllowAlternateSchemes = true;
        kestrel.Limits.Http2.MaxStreamsPerConnection = Math.Max(kestrel.Limits.Http2.MaxStreamsPerConnection, options.MaxConcurrentStreams);
        kestrel.Listen(Ts2021InnerEndPoint.Instance, listen => listen.Protocols = HttpProtocols.Http2);
        return kestrel;
    }

    /// <summary>Maps GET (WebSocket variant) and POST (HTTP/1.1 upgrade) <c>/ts2021</c>.</summary>
    public static IEndpointConventionBuilder MapTs2021(this IEndpointRouteBuilder endpoints, string pattern = "/ts2021") =>
        endpoints.MapMethods(pattern, [HttpMethods.Get, HttpMethods.Post], static context =>
            context.RequestServices.GetRequiredService<Ts2021Handler>().HandleAsync(context));

    /// <summary>The control connection a request came through, or null on the public listener.</summary>
    public static IControlConnectionFeature? GetControlConnection(this HttpContext context) =>
        context.Features.Get<IControlConnectionFeature>();
}

/// <summary>
/// Runs first in the pipeline and keeps the two worlds apart: the inner prefix (/machine) answers 404 on the public
/// listener, everything else answers 404 inside Noise, and inner requests get the 1 MiB body limit. It also enables
/// WebSockets for the browser variant of /ts2021.
/// </summary>
internal sealed class Ts2021StartupFilter(IOptions<Ts2021Options> options) : IStartupFilter
{
    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        var settings = options.Value;
        app.UseWebSockets();
        app.Use((context, nextMiddleware) =>
        {
            var inside = context.Features.Get<IControlConnectionFeature>() is not null;
            var innerPath = context.Request.Path.StartsWithSegments(settings.InnerPathPrefix, StringComparison.Ordinal);
            if (inside != innerPath)
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return Task.CompletedTask;
            }

            if (inside && context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
            {
                limit.MaxRequestBodySize = settings.MaxRequestBodySize;
            }

            return nextMiddleware(context);
        });
        next(app);
    };
}
