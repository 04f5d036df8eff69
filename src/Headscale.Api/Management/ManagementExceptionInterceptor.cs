using AskTimeoutException = Akka.Actor.AskTimeoutException;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Logging;

namespace Headscale.Api.Management;

/// <summary>
/// Turns what escapes a facade into a status the caller can act on instead of gRPC's bare
/// "Exception was thrown by handler" (Unknown): an actor that did not answer in time (the cluster
/// is starting, moving a shard or overloaded) is Unavailable, so clients and scripts retry; anything
/// else is Internal with a generic message, logged here with the method so the cause is never lost
/// and never leaks to the caller.
/// </summary>
public sealed class ManagementExceptionInterceptor(ILogger<ManagementExceptionInterceptor> log) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(
        TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (Exception e) when (e is AskTimeoutException || (e is TaskCanceledException && !context.CancellationToken.IsCancellationRequested))
        {
            log.LogWarning("{Method}: the cluster did not answer in time ({Reason})", context.Method, e.Message);
            throw new RpcException(new Status(StatusCode.Unavailable, "the server did not answer in time; try again"));
        }
        catch (Exception e) when (e is not RpcException && !context.CancellationToken.IsCancellationRequested)
        {
            log.LogError(e, "{Method} failed", context.Method);
            throw new RpcException(new Status(StatusCode.Internal, "internal error; the server log has the details"));
        }
    }
}
