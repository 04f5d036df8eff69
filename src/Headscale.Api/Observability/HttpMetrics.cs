using Prometheus;

namespace Headscale.Api.Observability;

/// <summary>
/// HTTP request metrics with Headscale's names. The <c>path</c> label is the route template
/// (e.g. <c>/register/{registrationId}</c>), never the raw path, so ids cannot explode cardinality.
/// </summary>
public static class HttpMetrics
{
    public static readonly Histogram Duration = Metrics.CreateHistogram(
        "headscale_http_duration_seconds",
        "Duration of HTTP requests by route template.",
        new HistogramConfiguration
        {
            LabelNames = ["path"],
            Buckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        });

    public static readonly Counter Requests = Metrics.CreateCounter(
        "headscale_http_requests_total",
        "HTTP requests by status code, method and route template.",
        new CounterConfiguration { LabelNames = ["code", "method", "path"] });
}
