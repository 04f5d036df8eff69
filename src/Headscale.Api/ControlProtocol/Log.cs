using System.Net;
using Microsoft.Extensions.Logging;

namespace Headscale.Api.ControlProtocol;

internal static partial class Log
{
    [LoggerMessage(EventId = 3001, Level = LogLevel.Debug, Message = "ts2021 upgrade from {Remote} refused with 400: {Reason}")]
    public static partial void UpgradeRefused(ILogger logger, IPAddress? remote, string reason);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Information, Message = "ts2021 handshake from {Remote} refused: {Reason}")]
    public static partial void InitiationRefused(ILogger logger, IPAddress? remote, string reason);

    [LoggerMessage(EventId = 3003, Level = LogLevel.Information,
        Message = "ts2021 client {MachineKey} from {Remote} refused: capability version {Version} is below the minimum {Minimum}")]
    public static partial void VersionTooOld(ILogger logger, string machineKey, IPAddress? remote, int version, int minimum);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Debug, Message = "ts2021 connection from {MachineKey} at {Remote} established (version {Version}, websocket {WebSocket})")]
    public static partial void Established(ILogger logger, string machineKey, IPAddress? remote, int version, bool webSocket);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Information, Message = "ts2021 connection from {MachineKey} at {Remote} broken: {Reason}")]
    public static partial void TransportBroken(ILogger logger, string machineKey, IPAddress? remote, string reason);

    [LoggerMessage(EventId = 3006, Level = LogLevel.Debug, Message = "ts2021 connection from {MachineKey} at {Remote} closed after {Received} records in, {Sent} out")]
    public static partial void Closed(ILogger logger, string machineKey, IPAddress? remote, ulong received, ulong sent);

    [LoggerMessage(EventId = 3008, Level = LogLevel.Debug, Message = "ts2021 connection from {Remote} ended during the handshake: {Reason}")]
    public static partial void HandshakeAborted(ILogger logger, IPAddress? remote, string reason);
}
