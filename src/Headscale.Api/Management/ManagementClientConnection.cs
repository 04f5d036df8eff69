using System.Net.Security;
using System.Net.Sockets;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Grpc.Net.Client;
using Headscale.Management.V1;

namespace Headscale.Api.Management;

/// <summary>Where and how the CLI reaches the management service (Headscale's <c>cli.*</c> and <c>unix_socket</c>).</summary>
/// <param name="Address"><c>cli.address</c>: <c>host:port</c> (TLS) or an explicit http/https URL; null or empty uses the unix socket.</param>
/// <param name="ApiKey"><c>cli.api_key</c>, required with an address.</param>
/// <param name="Insecure"><c>cli.insecure</c>: TLS without certificate verification.</param>
/// <param name="UnixSocket"><c>unix_socket</c>.</param>
/// <param name="Timeout"><c>cli.timeout</c>: deadline of each call that sets none itself.</param>
public sealed record ManagementClientOptions(string? Address, string? ApiKey, bool Insecure, string UnixSocket, TimeSpan Timeout);

/// <summary>
/// A gRPC client of headscale.v1 connected as Headscale's CLI connects: over the local unix socket
/// without a key, or to a remote address with the API key as Bearer metadata.
/// </summary>
public sealed class ManagementClientConnection : IDisposable
{
    /// <summary>gRPC's 4 MiB default would cut off <c>nodes list</c> at a few thousand nodes.</summary>
    public const int MaxResponseBytes = 256 * 1024 * 1024;

    private readonly GrpcChannel _channel;

    private ManagementClientConnection(GrpcChannel channel, CallInvoker invoker)
    {
        _channel = channel;
        Client = new HeadscaleService.HeadscaleServiceClient(invoker);
    }

    public HeadscaleService.HeadscaleServiceClient Client { get; }

    public static ManagementClientConnection Open(ManagementClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.Timeout <= TimeSpan.Zero)
        {
            throw new ArgumentException($"cli.timeout must be positive, got {options.Timeout}", nameof(options));
        }

        GrpcChannel channel;
        CallInvoker invoker;
        if (string.IsNullOrWhiteSpace(options.Address))
        {
            if (string.IsNullOrWhiteSpace(options.UnixSocket))
            {
                throw new ArgumentException("unix_socket is required when cli.address is not set", nameof(options));
            }

            var socketPath = options.UnixSocket;
            var handler = new SocketsHttpHandler
            {
                ConnectCallback = async (_, cancellationToken) =>
                {
                    var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    try
                    {
                        await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath), cancellationToken);
                        return new NetworkStream(socket, ownsSocket: true);
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                },
            };
            channel = GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions { HttpHandler = handler, MaxReceiveMessageSize = MaxResponseBytes });
            invoker = channel.CreateCallInvoker();
        }
        else
        {
            if (string.IsNullOrWhiteSpace(options.ApiKey))
            {
                throw new ArgumentException("cli.api_key is required when cli.address is set", nameof(options));
            }

            var address = options.Address.Contains("://", StringComparison.Ordinal) ? options.Address : "https://" + options.Address;
            if (!Uri.TryCreate(address, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
            {
                throw new ArgumentException($"cli.address must be host:port or an http(s) URL, got '{options.Address}'", nameof(options));
            }

            var handler = new SocketsHttpHandler();
            if (options.Insecure)
            {
                handler.SslOptions = new SslClientAuthenticationOptions { RemoteCertificateValidationCallback = (_, _, _, _) => true };
            }

            channel = GrpcChannel.ForAddress(uri, new GrpcChannelOptions { HttpHandler = handler, MaxReceiveMessageSize = MaxResponseBytes });
            var authorization = "Bearer " + options.ApiKey.Trim();
            invoker = channel.CreateCallInvoker().Intercept(metadata =>
            {
                metadata.Add("authorization", authorization);
                return metadata;
            });
        }

        return new ManagementClientConnection(channel, invoker.Intercept(new DefaultDeadlineInterceptor(options.Timeout)));
    }

    public void Dispose() => _channel.Dispose();

    /// <summary>Gives every unary call without its own deadline the configured <c>cli.timeout</c>.</summary>
    private sealed class DefaultDeadlineInterceptor(TimeSpan timeout) : Interceptor
    {
        public override AsyncUnaryCall<TResponse> AsyncUnaryCall<TRequest, TResponse>(
            TRequest request, ClientInterceptorContext<TRequest, TResponse> context, AsyncUnaryCallContinuation<TRequest, TResponse> continuation)
        {
            if (context.Options.Deadline is null)
            {
                context = new ClientInterceptorContext<TRequest, TResponse>(
                    context.Method, context.Host, context.Options.WithDeadline(DateTime.UtcNow + timeout));
            }

            return continuation(request, context);
        }
    }
}
