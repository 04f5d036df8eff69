using System.Diagnostics;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Prometheus;

namespace Headscale.Api.Observability;

/// <summary>Management API metrics: calls by method and status (gRPC and REST alike), refused API keys.</summary>
public static class ManagementMetrics
{
    public static readonly Counter GrpcCalls = Metrics.CreateCounter(
        "headscale_grpc_calls_total",
        "Management calls (gRPC, and REST through transcoding) by method and status code.",
        new CounterConfiguration { LabelNames = ["method", "code"] });

    public static readonly Histogram GrpcDuration = Metrics.CreateHistogram(
        "headscale_grpc_call_duration_seconds",
        "Duration of management calls by method.",
        new HistogramConfiguration
        {
            LabelNames = ["method"],
            Buckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
        });

    public static readonly Counter AuthenticationFailures = Metrics.CreateCounter(
        "headscale_api_authentication_failures_total",
        "Management calls refused for a missing, malformed, unknown, expired or wrong API key.",
        new CounterConfiguration { LabelNames = ["reason"] });
}

/// <summary>Counts every call of the management service by its method name (never its arguments) and final status.</summary>
public sealed class GrpcMetricsInterceptor : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        var method = MethodName(context.Method);
        var started = Stopwatch.GetTimestamp();
        var code = StatusCode.Unknown;
        try
        {
            var response = await continuation(request, context);
            code = StatusCode.OK;
            return response;
        }
        catch (RpcException e)
        {
            code = e.StatusCode;
            throw;
        }
        catch (OperationCanceledException)
        {
            code = StatusCode.Cancelled;
            throw;
        }
        finally
        {
            ManagementMetrics.GrpcCalls.WithLabels(method, code.ToString()).Inc();
            ManagementMetrics.GrpcDuration.WithLabels(method).Observe(Stopwatch.GetElapsedTime(started).TotalSeconds);
        }
    }

    /// <summary><c>/headscale.v1.HeadscaleService/ListNodes</c> → <c>ListNodes</c>.</summary>
    public static string MethodName(string fullMethod)
    {
        var slash = fullMethod.LastIndexOf('/');
        return slash >= 0 ? fullMethod[(slash + 1)..] : fullMethod;
    }
}
