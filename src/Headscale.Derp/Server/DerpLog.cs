using Microsoft.Extensions.Logging;

namespace Headscale.Derp.Server;

internal static partial class DerpLog
{
    [LoggerMessage(EventId = 8001, Level = LogLevel.Debug, Message = "DERP client {Key} connected from {Remote} (mesh peer: {IsMesh})")]
    public static partial void ClientConnected(ILogger logger, string key, string? remote, bool isMesh);

    [LoggerMessage(EventId = 8002, Level = LogLevel.Debug, Message = "DERP client {Key} disconnected")]
    public static partial void ClientDisconnected(ILogger logger, string key);

    [LoggerMessage(EventId = 8003, Level = LogLevel.Information, Message = "DERP connection from {Remote} closed: {Reason}")]
    public static partial void ProtocolError(ILogger logger, string? remote, string reason);

    [LoggerMessage(EventId = 8004, Level = LogLevel.Information, Message = "DERP client {Key} from {Remote} is not allowed to connect")]
    public static partial void ClientNotAllowed(ILogger logger, string key, string? remote);

    [LoggerMessage(EventId = 8005, Level = LogLevel.Information, Message = "DERP client {Key} revoked; closing {Count} connection(s)")]
    public static partial void ClientRevoked(ILogger logger, string key, int count);

    [LoggerMessage(EventId = 8006, Level = LogLevel.Information, Message = "DERP client {Key} did not drain its writes for {Timeout}; closing")]
    public static partial void WriteTimeout(ILogger logger, string key, TimeSpan timeout);

    [LoggerMessage(EventId = 8007, Level = LogLevel.Debug, Message = "DERP connection from {Remote} ended: {Reason}")]
    public static partial void ConnectionEnded(ILogger logger, string? remote, string reason);

    [LoggerMessage(EventId = 8010, Level = LogLevel.Information, Message = "DERP mesh: connected to {Url} (server key {Key})")]
    public static partial void MeshConnected(ILogger logger, string url, string key);

    [LoggerMessage(EventId = 8011, Level = LogLevel.Warning, Message = "DERP mesh: connection to {Url} failed or ended: {Reason}")]
    public static partial void MeshFailed(ILogger logger, string url, string reason);

    [LoggerMessage(EventId = 8012, Level = LogLevel.Information, Message = "DERP mesh: {Url} is this server itself; not meshing with it")]
    public static partial void MeshSelf(ILogger logger, string url);

    [LoggerMessage(EventId = 8020, Level = LogLevel.Information, Message = "STUN listening on {EndPoint}")]
    public static partial void StunListening(ILogger logger, string endPoint);

    [LoggerMessage(EventId = 8030, Level = LogLevel.Warning, Message = "DERP map source {Source} failed, keeping the last good map: {Reason}")]
    public static partial void MapSourceFailed(ILogger logger, string source, string reason);

    [LoggerMessage(EventId = 8031, Level = LogLevel.Information, Message = "DERP map updated: {RegionCount} region(s)")]
    public static partial void MapUpdated(ILogger logger, int regionCount);
}
