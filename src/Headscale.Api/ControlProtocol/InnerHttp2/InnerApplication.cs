using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Http.Features;

namespace Headscale.Api.ControlProtocol.InnerHttp2;

/// <summary>
/// The host's request pipeline as the inner HTTP/2 server runs it: the same <see cref="IHttpApplication{TContext}"/> the
/// outer server was started with, so requests inside Noise get routing, middleware, logging scopes and activities exactly
/// as requests on a socket do.
/// </summary>
public sealed class InnerApplication
{
    private IRunner? _runner;

    /// <summary>Whether the host has started its server (and so handed over its pipeline).</summary>
    public bool IsReady => Volatile.Read(ref _runner) is not null;

    internal void Attach<TContext>(IHttpApplication<TContext> application)
        where TContext : notnull =>
        Volatile.Write(ref _runner, new Runner<TContext>(application));

    /// <summary>Runs one request; <paramref name="finish"/> completes the response (with the failure, if any) before the context is disposed.</summary>
    internal Task RunAsync(IFeatureCollection features, Func<Exception?, Task> finish) =>
        (Volatile.Read(ref _runner) ?? throw new InvalidOperationException("The server has not started yet.")).RunAsync(features, finish);

    private interface IRunner
    {
        Task RunAsync(IFeatureCollection features, Func<Exception?, Task> finish);
    }

    private sealed class Runner<TContext>(IHttpApplication<TContext> application) : IRunner
        where TContext : notnull
    {
        public async Task RunAsync(IFeatureCollection features, Func<Exception?, Task> finish)
        {
            var context = application.CreateContext(features);
            Exception? failure = null;
            try
            {
                await application.ProcessRequestAsync(context);
            }
            catch (Exception ex)
            {
                failure = ex;
            }

            try
            {
                await finish(failure);
            }
            finally
            {
                application.DisposeContext(context, failure);
            }
        }
    }
}

/// <summary>
/// Wraps the host's server (Kestrel) to capture the application it is started with for <see cref="InnerApplication"/>;
/// everything else is the wrapped server's.
/// </summary>
internal sealed class ApplicationCapturingServer(IServer inner, InnerApplication capture) : IServer
{
    public IFeatureCollection Features => inner.Features;

    public Task StartAsync<TContext>(IHttpApplication<TContext> application, CancellationToken cancellationToken)
        where TContext : notnull
    {
        capture.Attach(application);
        return inner.StartAsync(application, cancellationToken);
    }

    public Task StopAsync(CancellationToken cancellationToken) => inner.StopAsync(cancellationToken);

    public void Dispose() => inner.Dispose();
}
