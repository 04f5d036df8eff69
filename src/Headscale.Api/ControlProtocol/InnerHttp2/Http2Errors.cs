using Headscale.Protocol.Http2;

namespace Headscale.Api.ControlProtocol.InnerHttp2;

/// <summary>A connection error (RFC 9113 §5.4.1): the connection is closed with a GOAWAY carrying <see cref="Code"/>.</summary>
internal sealed class Http2ConnectionException(Http2ErrorCode code, string message) : Exception(message)
{
    public Http2ErrorCode Code { get; } = code;
}
