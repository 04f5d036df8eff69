using System.Net;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Headscale.Api.Management;

/// <summary>
/// Listeners of the management gRPC surface. gRPC needs HTTP/2; REST stays on the main HTTP/1.1
/// listener, because Kestrel cannot serve cleartext HTTP/1.1 and h2c on one port.
/// </summary>
public static class ManagementKestrelExtensions
{
    /// <summary>
    /// <c>grpc_listen_addr</c>: HTTP/2 with TLS when a certificate is given, cleartext h2c only when
    /// <paramref name="allowInsecure"/> (<c>grpc_allow_insecure</c>) is set. With neither, nothing
    /// is bound and null is returned, as Headscale does.
    /// </summary>
    public static ListenOptions? ListenManagementGrpc(
        this KestrelServerOptions kestrel, IPEndPoint endPoint, X509Certificate2? certificate, bool allowInsecure)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        if (certificate is null && !allowInsecure)
        {
            return null;
        }

        ListenOptions? bound = null;
        kestrel.Listen(endPoint, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            if (certificate is not null)
            {
                listen.UseHttps(certificate);
            }

            bound = listen;
        });
        return bound;
    }

    /// <summary>
    /// <c>unix_socket</c>: cleartext HTTP/2 for the local CLI, exempt from API keys. A stale socket
    /// file left by an earlier run is removed first. The caller sets the file mode
    /// (<c>unix_socket_permission</c>) once the server has started.
    /// </summary>
    public static ListenOptions ListenManagementUnixSocket(this KestrelServerOptions kestrel, string socketPath)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(socketPath);
        var existing = new FileInfo(socketPath);
        if (existing.Exists)
        {
            // A socket file always has length 0; refuse to delete anything that holds data.
            if (existing.Length > 0)
            {
                throw new InvalidOperationException($"unix_socket '{socketPath}' exists and is not a socket");
            }

            existing.Delete();
        }

        ListenOptions? bound = null;
        kestrel.ListenUnixSocket(socketPath, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            listen.Use(next => connection =>
            {
                connection.Features.Set<ILocalManagementConnectionFeature>(LocalManagementConnectionFeature.Instance);
                return next(connection);
            });
            bound = listen;
        });
        return bound!;
    }
}
