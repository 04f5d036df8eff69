using Headscale.Protocol.Keys;
using Microsoft.AspNetCore.Builder;
using Headscale.Api.ControlProtocol.InnerHttp2;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Headscale.Api.ControlProtocol;

/// <summary>
/// Wiring of the ts2021 transport. The composition root calls, in this order:
/// <code>
/// services.AddTs2021Transport();                       // after UseKestrel/UseKestrelCore (it wraps the registered
///                                                      // server to share its request pipeline); needs an
///                                                      // INoiseKeyProvider or a MachinePrivateKey singleton
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
        services.TryAddSingleton<InnerApplication>();
        services.AddTransient<IStartupFilter, Ts2021StartupFilter>();
        CaptureServerApplication(services);
        return services;
    }

    /// <summary>
    /// Requests inside Noise run through the same pipeline as requests on a socket: the registered server is wrapped so
    /// the application it is started with is shared with the inner HTTP/2 server.
    /// </summary>
    private static void CaptureServerApplication(IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(ServerApplicationCaptured)))
        {
            return;
        }

        var server = services.LastOrDefault(d => d.ServiceType == typeof(IServer))
            ?? throw new InvalidOperationException("AddTs2021Transport needs the HTTP server registered first: call it after UseKestrel or UseKestrelCore.");
        services.Remove(server);
        services.AddSingleton<ServerApplicationCaptured>();
        services.AddSingleton<IServer>(provider => new ApplicationCapturingServer(
            server.ImplementationInstance as IServer
                ?? server.ImplementationFactory?.Invoke(provider) as IServer
                ?? (IServer)ActivatorUtilities.CreateInstance(provider, server.ImplementationType!),
            provider.GetRequiredService<InnerApplication>()));
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
/// listener, and everything else answers 404 inside Noise (the inner server enforces the body limit itself). It also
/// enables WebSockets for the browser variant of /ts2021.
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

            return nextMiddleware(context);
        });
        next(app);
    };
}

/// <summary>Marks that the server registration has been wrapped, so a second AddTs2021Transport does not wrap it twice.</summary>
internal sealed class ServerApplicationCaptured;
