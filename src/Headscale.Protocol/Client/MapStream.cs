using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json.Nodes;
using Headscale.Protocol.Tailcfg;

namespace Headscale.Protocol.Client;

/// <summary>
/// A <c>/machine/map</c> response read frame by frame (4-byte little-endian length, then JSON or a zstd frame), as a
/// client's long-poll reads it.
/// </summary>
public sealed class MapStream : IAsyncDisposable
{
    private readonly HttpResponseMessage _response;
    private readonly PipeReader _reader;
    private readonly bool _zstd;

    internal MapStream(HttpResponseMessage response, Stream body, bool zstd)
    {
        _response = response;
        _zstd = zstd;
        _reader = PipeReader.Create(body, new StreamPipeReaderOptions(bufferSize: 16 * 1024));
    }

    /// <summary>Frames received so far, keep-alives included.</summary>
    public long FrameCount { get; private set; }

    /// <summary>The next MapResponse as raw JSON, or null when the server ended the stream.</summary>
    public async Task<byte[]?> ReadFrameAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await _reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            var buffer = result.Buffer;
            if (MapFrameCodec.TryReadFrame(ref buffer, _zstd, out var json))
            {
                _reader.AdvanceTo(buffer.Start);
                FrameCount++;
                return json;
            }

            _reader.AdvanceTo(buffer.Start, buffer.End);
            if (result.IsCompleted)
            {
                return null;
            }
        }
    }

    /// <summary>The next MapResponse parsed, or null at the end of the stream.</summary>
    public async Task<JsonObject?> ReadAsync(CancellationToken cancellationToken)
    {
        var json = await ReadFrameAsync(cancellationToken).ConfigureAwait(false);
        return json is null ? null : JsonNode.Parse(json)!.AsObject();
    }

    /// <summary>Reads frames until one satisfies <paramref name="match"/>; keep-alives and unrelated deltas are skipped.</summary>
    public async Task<JsonObject> ReadUntilAsync(Func<JsonObject, bool> match, CancellationToken cancellationToken)
    {
        while (true)
        {
            var frame = await ReadAsync(cancellationToken).ConfigureAwait(false)
                ?? throw new EndOfStreamException("the map stream ended before the expected update arrived");
            if (match(frame))
            {
                return frame;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _reader.CompleteAsync().ConfigureAwait(false);
        _response.Dispose();
    }
}
