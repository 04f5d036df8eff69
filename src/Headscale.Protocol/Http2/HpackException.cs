namespace Headscale.Protocol.Http2;

/// <summary>
/// A header block that cannot be decoded (RFC 7541 §2.3.3, §4.2, §5, §6). The dynamic table can no longer be
/// trusted, so the HTTP/2 connection must end with COMPRESSION_ERROR (RFC 9113 §4.3).
/// </summary>
public sealed class HpackException(string message) : Exception(message);

/// <summary>
/// The decoded header list was larger than the decoder's limit (RFC 7541 §4.1 sizes: name + value + 32 per field).
/// The block was still decoded to its end, so the dynamic table is consistent and the connection can go on: only
/// the stream fails (HTTP/2 answers 431 or resets the stream). Fields past the limit were not passed to the
/// handler.
/// </summary>
public sealed class HpackHeaderListTooLargeException(int maxHeaderListSize)
    : Exception($"header list is larger than {maxHeaderListSize} bytes")
{
    /// <summary>The limit that was passed.</summary>
    public int MaxHeaderListSize { get; } = maxHeaderListSize;
}
