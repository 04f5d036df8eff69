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
        if (Path.GetDirectoryName(Path.GetFullPath(socketPath)) is { } directory)
        {
            Directory.CreateDirectory(directory);
        }

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

    /// <summary>
    /// Parses <c>unix_socket_permission</c> (octal, e.g. <c>"0770"</c> or <c>"770"</c>) into a file mode.
    /// </summary>
    public static bool TryParseUnixSocketPermission(string? text, out UnixFileMode mode, out string error)
    {
        mode = default;
        var digits = (text ?? "").Trim();
        if (digits.StartsWith("0o", StringComparison.OrdinalIgnoreCase))
        {
            digits = digits[2..];
        }

        if (digits.Length is < 3 or > 4 || digits.Any(c => c is < '0' or > '7'))
        {
            error = $"unix_socket_permission must be an octal mode such as 0770, got '{text}'";
            return false;
        }

        mode = (UnixFileMode)Convert.ToInt32(digits, 8);
        error = "";
        return true;
    }

    /// <summary>
    /// Applies <c>unix_socket_permission</c> once Kestrel has created the socket, i.e. from
    /// <c>IHostApplicationLifetime.ApplicationStarted</c>.
    /// </summary>
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public static void ApplyUnixSocketPermission(string socketPath, UnixFileMode mode) =>
        File.SetUnixFileMode(socketPath, mode);
}
