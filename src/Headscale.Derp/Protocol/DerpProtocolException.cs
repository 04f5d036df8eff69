namespace Headscale.Derp.Protocol;

/// <summary>The peer broke the DERP protocol; the connection is closed. The message names what was wrong.</summary>
public sealed class DerpProtocolException(string message) : Exception(message);
