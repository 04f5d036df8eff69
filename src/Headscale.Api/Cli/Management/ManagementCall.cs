using System.CommandLine;
using System.Net.Http;
using System.Net.Sockets;
using Grpc.Core;
using Headscale.Api.Configuration;
using Headscale.Api.Management;
using Headscale.Management.V1;

namespace Headscale.Api.Cli.Management;

/// <summary>What a management command does once connected: returns the exit code.</summary>
public delegate Task<int> ManagementAction(HeadscaleService.HeadscaleServiceClient client, OutputWriter output, CancellationToken cancellationToken);

/// <summary>
/// Runs one management command as Headscale's CLI does: the configuration chooses the unix socket
/// (no key) or <c>cli.address</c> with <c>cli.api_key</c>; <c>cli.timeout</c> is each call's deadline.
/// Every failure becomes one <c>Error: …</c> line and exit code 1, never a stack trace.
/// </summary>
public static class ManagementCall
{
    /// <param name="subject">
    /// What the command acts on as the user named it (<c>user 'alice'</c>, <c>node 7</c>); it prefixes the
    /// server's own error, which often does not say which record it means ("user not found").
    /// </param>
    public static async Task<int> RunAsync(ParseResult parse, ManagementAction action, CancellationToken cancellationToken, Func<string?>? subject = null)
    {
        var output = GlobalOptions.Writer(parse);
        var (config, raw, problems) = ConfigCommands.Load(parse);
        if (config is null)
        {
            var source = raw.FilePath is null ? "" : raw.FilePath + " ";
            output.WriteError($"configuration {source}is invalid: {string.Join("; ", problems)}");
            return 1;
        }

        var options = new ManagementClientOptions(
            config.Cli.Address, config.Cli.ApiKey, config.Cli.Insecure, config.UnixSocket, config.Cli.Timeout);
        var target = DescribeTarget(options);
        ManagementClientConnection connection;
        try
        {
            connection = ManagementClientConnection.Open(options);
        }
        catch (ArgumentException e)
        {
            output.WriteError(e.Message.Split(" (Parameter", 2)[0]);
            return 1;
        }

        using (connection)
        {
            try
            {
                return await action(connection.Client, output, cancellationToken);
            }
            catch (RpcException e)
            {
                var message = Describe(e, target, options);
                var about = IsServerAnswer(e) ? subject?.Invoke() : null;
                output.WriteError(string.IsNullOrEmpty(about) ? message : $"{about}: {message}");
                return 1;
            }
        }
    }

    /// <summary>How the user would write the server's location: <c>unix:///path</c> or the address.</summary>
    public static string DescribeTarget(ManagementClientOptions options) =>
        string.IsNullOrWhiteSpace(options.Address) ? "unix://" + options.UnixSocket : options.Address.Trim();

    /// <summary>One line for a failed call: the server's own message, or why it could not be reached.</summary>
    public static string Describe(RpcException error, string target, ManagementClientOptions options)
    {
        if (error.StatusCode == StatusCode.DeadlineExceeded)
        {
            return $"headscale at {target} did not answer within {GoDuration.Format(options.Timeout)} (cli.timeout)";
        }

        if (error.StatusCode == StatusCode.Unavailable && FindSocketError(error.Status.DebugException) is { } socketError)
        {
            return $"cannot reach headscale at {target}: {SocketReason(socketError, options)}";
        }

        if (error.StatusCode == StatusCode.Unavailable && error.Status.DebugException is HttpRequestException http)
        {
            var inner = http.InnerException is { } cause ? ": " + cause.Message : "";
            return $"cannot reach headscale at {target}: {http.Message}{inner}";
        }

        if (error.StatusCode == StatusCode.Unauthenticated && !string.IsNullOrWhiteSpace(options.Address))
        {
            var detail = string.IsNullOrEmpty(error.Status.Detail) ? "" : $" ({error.Status.Detail})";
            return $"headscale at {target} refused the API key (cli.api_key / HEADSCALE_CLI_API_KEY): it is wrong, expired or deleted{detail}";
        }

        return string.IsNullOrEmpty(error.Status.Detail) ? $"the server answered {error.StatusCode}" : error.Status.Detail;
    }

    /// <summary>Whether the server itself refused the request (as opposed to not being reached or the key being refused).</summary>
    private static bool IsServerAnswer(RpcException error) =>
        error.StatusCode is not (StatusCode.Unavailable or StatusCode.DeadlineExceeded or StatusCode.Unauthenticated or StatusCode.Cancelled);

    private static SocketException? FindSocketError(Exception? exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is SocketException socket)
            {
                return socket;
            }
        }

        return null;
    }

    private static string SocketReason(SocketException error, ManagementClientOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.Address) && !File.Exists(options.UnixSocket))
        {
            return "no such socket (is the server running?)";
        }

        return error.SocketErrorCode switch
        {
            SocketError.ConnectionRefused => "connection refused",
            SocketError.AccessDenied => "permission denied",
            SocketError.HostNotFound or SocketError.NoData => "host not found",
            SocketError.TimedOut => "connection timed out",
            _ => error.Message.ToLowerInvariant(),
        };
    }
}
