using System.Net;
using Headscale.Derp.Hosting;
using Headscale.Derp.Keys;
using Headscale.Derp.Server;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Headscale.Bench.Derp;

/// <summary>The embedded DERP server as the API host wires it (Kestrel, <c>AddDerpServer</c>, <c>MapDerp</c>), plain HTTP on loopback.</summary>
internal sealed class DerpBenchHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private DerpBenchHost(WebApplication app, IPEndPoint endPoint)
    {
        _app = app;
        EndPoint = endPoint;
    }

    public IPEndPoint EndPoint { get; }
    public DerpServer Server => _app.Services.GetRequiredService<DerpServer>();

    public static async Task<DerpBenchHost> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        builder.Services.AddDerpServer(o =>
        {
            o.PrivateKey = DerpPrivateKey.Generate();
            o.VerifyClients = false;
        });
        var app = builder.Build();
        app.MapDerp();
        await app.StartAsync();
        var address = new Uri(app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First());
        return new DerpBenchHost(app, new IPEndPoint(IPAddress.Loopback, address.Port));
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
