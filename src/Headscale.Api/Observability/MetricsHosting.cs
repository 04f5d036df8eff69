using Prometheus;

namespace Headscale.Api.Observability;

/// <summary>Composition of the metrics served on <c>metrics_listen_addr</c>.</summary>
public static class MetricsHosting
{
    private static readonly Lazy<bool> DefaultMetricsConfigured = new(() =>
    {
        // Process and GC collectors stay; prometheus-net's meter and event-counter adapters and its
        // self-metrics go: their names fail promtool, and MeterExporter exports the meters instead.
        Metrics.SuppressDefaultMetrics(new SuppressDefaultMetricOptions
        {
            SuppressProcessMetrics = false,
            SuppressDebugMetrics = true,
            SuppressEventCounters = true,
            SuppressMeters = true,
        });
        return true;
    });

    /// <summary>Registers the exporters; call only when the metrics listener is enabled.</summary>
    public static IServiceCollection AddHeadscaleMetrics(this IServiceCollection services)
    {
        _ = DefaultMetricsConfigured.Value;
        services.AddSingleton(_ => new MeterExporter(Metrics.DefaultRegistry));
        services.AddSingleton(sp => new ClusterMetrics(sp, Metrics.DefaultRegistry));
        return services;
    }

    /// <summary>
    /// Creates the exporters registered by <see cref="AddHeadscaleMetrics"/>, so the meters are listened
    /// to from the start (instruments created earlier are still seen) and the scrape-time gauges exist.
    /// </summary>
    public static void StartHeadscaleMetrics(this WebApplication app)
    {
        _ = app.Services.GetRequiredService<MeterExporter>();
        _ = app.Services.GetRequiredService<ClusterMetrics>();
    }
}
