using System.Diagnostics;
using Microsoft.AspNetCore.Routing;

namespace Headscale.Api.Observability;

/// <summary>
/// One log line and one metric sample per request: route template, status and duration.
/// Long-lived streams (the control upgrade, map polls, DERP) are logged when they end and are
/// kept out of the duration histogram, whose buckets are meant for request/response calls.
/// </summary>
public sealed partial class RequestLoggingMiddleware(RequestDelegate next, ILogger<RequestLoggingMiddleware> logger)
{
    /// <summary>Route label for requests that matched no endpoint.</summary>
    public const string Unmatched = "(unmatched)";

    public async Task InvokeAsync(HttpContext context)
    {
        var started = Stopwatch.GetTimestamp();
        try
        {
            await next(context);
        }
        finally
        {
            var elapsed = Stopwatch.GetElapsedTime(started);
            var route = (context.GetEndpoint() as RouteEndpoint)?.RoutePattern.RawText ?? Unmatched;
            var status = context.Response.StatusCode;
            HttpMetrics.Requests.WithLabels(status.ToString(System.Globalization.CultureInfo.InvariantCulture), context.Request.Method, route).Inc();
            if (!IsLongLived(route))
            {
                HttpMetrics.Duration.WithLabels(route).Observe(elapsed.TotalSeconds);
            }

            LogRequest(logger, context.Request.Method, route, status, elapsed.TotalMilliseconds);
        }
    }

    private static bool IsLongLived(string route) =>
        route.StartsWith("/ts2021", StringComparison.Ordinal)
        || route.StartsWith("/machine/map", StringComparison.Ordinal)
        || route.StartsWith("/derp", StringComparison.Ordinal);

    [LoggerMessage(EventId = 1000, Level = LogLevel.Information, Message = "{Method} {Route} {Status} {ElapsedMs:0.0}ms")]
    private static partial void LogRequest(ILogger logger, string method, string route, int status, double elapsedMs);
}
