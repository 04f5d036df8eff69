namespace Headscale.Protocol.Http2;

/// <summary>
/// Receives the fields of one header block from <see cref="HpackDecoder.Decode"/>, in order. The spans are only
/// valid during the call: they point into the block, the static table, the dynamic table or the decoder's scratch
/// buffer, so copy what must outlive it.
/// </summary>
public interface IHpackHeaderHandler
{
    void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value);
}
