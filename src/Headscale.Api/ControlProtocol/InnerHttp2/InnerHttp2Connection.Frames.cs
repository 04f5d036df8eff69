using System.Buffers;
using System.Buffers.Binary;
using Headscale.Protocol.Buffers;
using Headscale.Protocol.Http2;

namespace Headscale.Api.ControlProtocol.InnerHttp2;

/// <summary>The frame loop: reading frames from the client and acting on each (RFC 9113 §4–§6).</summary>
internal sealed partial class InnerHttp2Connection
{
    private async Task ReadFramesAsync()
    {
        var prefaceRead = false;
        while (true)
        {
            var result = await _input.ReadAsync();
            var buffer = result.Buffer;
            try
            {
                if (result.IsCanceled)
                {
                    return;
                }

                if (!prefaceRead)
                {
                    if (!TryReadPreface(ref buffer, result.IsCompleted))
                    {
                        continue;
                    }

                    prefaceRead = true;
                }

                while (TryReadFrame(ref buffer, out var header, out var payload))
                {
                    await ProcessFrameAsync(header, payload);
                }

                if (result.IsCompleted)
                {
                    if (!buffer.IsEmpty)
                    {
                        throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"connection ended inside a frame ({buffer.Length} bytes left over)");
                    }

                    return;
                }
            }
            finally
            {
                _input.AdvanceTo(buffer.Start, buffer.End);
            }
        }
    }

    private static bool TryReadPreface(ref ReadOnlySequence<byte> buffer, bool completed)
    {
        var preface = Http2FrameHeader.ClientPreface;
        var available = (int)Math.Min(buffer.Length, preface.Length);
        Span<byte> received = stackalloc byte[preface.Length];
        buffer.Slice(0, available).CopyTo(received);
        if (!received[..available].SequenceEqual(preface[..available]))
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "invalid HTTP/2 connection preface");
        }

        if (available < preface.Length)
        {
            if (completed)
            {
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "connection ended inside the HTTP/2 preface");
            }

            return false;
        }

        buffer = buffer.Slice(preface.Length);
        return true;
    }

    private static bool TryReadFrame(ref ReadOnlySequence<byte> buffer, out Http2FrameHeader header, out ReadOnlySequence<byte> payload)
    {
        header = default;
        payload = default;
        if (buffer.Length < Http2FrameHeader.Size)
        {
            return false;
        }

        Span<byte> bytes = stackalloc byte[Http2FrameHeader.Size];
        buffer.Slice(0, Http2FrameHeader.Size).CopyTo(bytes);
        header = Http2FrameHeader.Read(bytes);
        if (header.Length > Http2FrameHeader.DefaultMaxFrameSize)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError,
                $"{header.Type} frame of {header.Length} bytes exceeds SETTINGS_MAX_FRAME_SIZE {Http2FrameHeader.DefaultMaxFrameSize}");
        }

        if (buffer.Length < Http2FrameHeader.Size + header.Length)
        {
            return false;
        }

        payload = buffer.Slice(Http2FrameHeader.Size, header.Length);
        buffer = buffer.Slice(Http2FrameHeader.Size + header.Length);
        return true;
    }

    private ValueTask ProcessFrameAsync(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (_continuationStreamId != 0 && (header.Type != Http2FrameType.Continuation || header.StreamId != _continuationStreamId))
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError,
                $"{header.Type} frame on stream {header.StreamId} while the header block of stream {_continuationStreamId} is incomplete");
        }

        return header.Type switch
        {
            Http2FrameType.Data => OnDataAsync(header, payload),
            Http2FrameType.Headers => OnHeadersAsync(header, payload),
            Http2FrameType.Continuation => OnContinuationAsync(header, payload),
            Http2FrameType.Priority => OnPriority(header),
            Http2FrameType.RstStream => OnRstStream(header, payload),
            Http2FrameType.Settings => OnSettingsAsync(header, payload),
            Http2FrameType.PushPromise => throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "clients may not send PUSH_PROMISE"),
            Http2FrameType.Ping => OnPingAsync(header, payload),
            Http2FrameType.GoAway => OnGoAway(header),
            Http2FrameType.WindowUpdate => OnWindowUpdateAsync(header, payload),
            _ => ValueTask.CompletedTask, // RFC 9113 §4.1: unknown frame types are ignored.
        };
    }

    private async ValueTask OnDataAsync(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (header.StreamId == 0)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "DATA frame on stream 0");
        }

        var data = StripPadding(header, payload);
        InnerHttp2Stream? stream;
        lock (_state)
        {
            _receiveWindow -= header.Length;
            if (_receiveWindow < 0)
            {
                throw new Http2ConnectionException(Http2ErrorCode.FlowControlError, "DATA beyond the connection's flow-control window");
            }

            _streams.TryGetValue(header.StreamId, out stream);
        }

        if (stream is { IsRejected: true })
        {
            // The server has answered already (413): the rest of the body is dropped and its window given back.
            stream.DiscardData(header.HasFlag(Http2FrameFlags.EndStream));
            await ReturnReceiveWindowAsync(header.Length);
            return;
        }

        if (stream is null || stream.RequestEnded)
        {
            stream?.Abort(resetByClient: false);
            if (stream is null && header.StreamId > _lastStreamId)
            {
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"DATA frame on idle stream {header.StreamId}");
            }

            await ReturnReceiveWindowAsync(header.Length);
            if (stream is null && WasRecentlyReset(header.StreamId))
            {
                // RFC 9113 §5.1: frames the client sent before it saw our RST_STREAM are ignored.
                return;
            }

            await WriteRstStreamAsync(header.StreamId, Http2ErrorCode.StreamClosed);
            return;
        }

        var consumed = stream.ReceiveData(header.Length, data, header.HasFlag(Http2FrameFlags.EndStream), out var outcome);
        if (consumed > 0)
        {
            // Padding, and data that will never be buffered (a rejected body), go back at once.
            await ReturnReceiveWindowAsync(consumed);
        }

        switch (outcome)
        {
            case DataOutcome.FlowControlViolated:
                stream.Abort(resetByClient: false);
                RemoveStream(stream);
                await WriteRstStreamAsync(stream.Id, Http2ErrorCode.FlowControlError);
                break;
            case DataOutcome.BodyTooLarge:
                RespondDirect(stream, 413, $"request body is larger than {Limits.MaxRequestBodySize} bytes");
                break;
            case DataOutcome.ContentLengthMismatch:
                stream.Abort(resetByClient: false);
                RemoveStream(stream);
                await WriteRstStreamAsync(stream.Id, Http2ErrorCode.ProtocolError);
                break;
            case DataOutcome.Complete:
                Dispatch(stream);
                break;
        }
    }

    private static ReadOnlySequence<byte> StripPadding(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (!header.HasFlag(Http2FrameFlags.Padded))
        {
            return payload;
        }

        if (payload.IsEmpty)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, $"padded {header.Type} frame without a pad length");
        }

        int padLength = payload.FirstSpan[0];
        if (padLength >= payload.Length)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"{header.Type} padding of {padLength} bytes fills the whole frame");
        }

        return payload.Slice(1, payload.Length - 1 - padLength);
    }

    private async ValueTask OnHeadersAsync(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        var streamId = header.StreamId;
        if (streamId == 0 || (streamId & 1) == 0)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"HEADERS on stream {streamId}: client streams have odd, non-zero ids");
        }

        var fragment = StripPadding(header, payload);
        if (header.HasFlag(Http2FrameFlags.Priority))
        {
            if (fragment.Length < 5)
            {
                throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, "HEADERS priority fields are cut short");
            }

            fragment = fragment.Slice(5);
        }

        if (streamId <= _lastStreamId)
        {
            InnerHttp2Stream? existing;
            lock (_state)
            {
                _streams.TryGetValue(streamId, out existing);
            }

            if (existing is null || existing.RequestEnded)
            {
                throw new Http2ConnectionException(Http2ErrorCode.StreamClosed, $"HEADERS on stream {streamId}, which is closed or was never opened");
            }

            if (!header.HasFlag(Http2FrameFlags.EndStream))
            {
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"trailers on stream {streamId} without END_STREAM");
            }
        }

        _headerBlockLength = 0;
        AppendHeaderBlock(fragment);
        if (header.HasFlag(Http2FrameFlags.EndHeaders))
        {
            await CompleteHeaderBlockAsync(streamId, header.HasFlag(Http2FrameFlags.EndStream));
        }
        else
        {
            _continuationStreamId = streamId;
            _continuationEndsStream = header.HasFlag(Http2FrameFlags.EndStream);
        }
    }

    private ValueTask OnContinuationAsync(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (_continuationStreamId == 0)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"CONTINUATION on stream {header.StreamId} without a HEADERS frame before it");
        }

        AppendHeaderBlock(payload);
        if (!header.HasFlag(Http2FrameFlags.EndHeaders))
        {
            return ValueTask.CompletedTask;
        }

        var streamId = _continuationStreamId;
        _continuationStreamId = 0;
        return CompleteHeaderBlockAsync(streamId, _continuationEndsStream);
    }

    private void AppendHeaderBlock(ReadOnlySequence<byte> fragment)
    {
        var needed = _headerBlockLength + (int)fragment.Length;
        if (needed > Limits.MaxHeaderBlockSize)
        {
            throw new Http2ConnectionException(Http2ErrorCode.EnhanceYourCalm, $"header block larger than {Limits.MaxHeaderBlockSize} bytes");
        }

        PooledBuffer.EnsureCapacity(ref _headerBlock, _headerBlockLength, needed, minimumSize: 1024);
        fragment.CopyTo(_headerBlock.AsSpan(_headerBlockLength));
        _headerBlockLength = needed;
    }

    private async ValueTask CompleteHeaderBlockAsync(int streamId, bool endStream)
    {
        var isNew = streamId > _lastStreamId;
        _head.Begin(trailers: !isNew);
        var listTooLarge = false;
        try
        {
            _hpack.Decode(_headerBlock.AsSpan(0, _headerBlockLength), _head);
        }
        catch (HpackHeaderListTooLargeException)
        {
            listTooLarge = true;
        }
        catch (HpackException ex)
        {
            throw new Http2ConnectionException(Http2ErrorCode.CompressionError, $"header block of stream {streamId}: {ex.Message}");
        }
        finally
        {
            // An idle connection keeps no header buffer.
            if (_headerBlock is not null)
            {
                ArrayPool<byte>.Shared.Return(_headerBlock);
                _headerBlock = null;
            }

            _headerBlockLength = 0;
        }

        if (!isNew)
        {
            await OnTrailersAsync(streamId, listTooLarge);
            return;
        }

        _lastStreamId = streamId;
        if (listTooLarge)
        {
            // The decoder kept its table in step, so only this stream fails.
            LogMalformedRequest(_logger, ConnectionId, streamId, $"header list larger than {Limits.MaxHeaderListSize} bytes");
            await WriteRstStreamAsync(streamId, Http2ErrorCode.ProtocolError);
            return;
        }

        if (_head.CheckRequest() is { } malformed)
        {
            LogMalformedRequest(_logger, ConnectionId, streamId, malformed);
            await WriteRstStreamAsync(streamId, Http2ErrorCode.ProtocolError);
            return;
        }

        InnerHttp2Stream stream;
        lock (_state)
        {
            if (_goingAway || _closed || _streams.Count >= Limits.MaxConcurrentStreams)
            {
                stream = null!;
            }
            else
            {
                stream = new InnerHttp2Stream(this, streamId, _head, endStream, _peerInitialWindow, Limits.StreamReceiveWindow);
                _streams.Add(streamId, stream);
                DisarmIdleTimer();
            }
        }

        if (stream is null)
        {
            await WriteRstStreamAsync(streamId, Http2ErrorCode.RefusedStream);
            return;
        }

        if (stream.ContentLengthExceeds(Limits.MaxRequestBodySize))
        {
            RespondDirect(stream, 413, $"request body is larger than {Limits.MaxRequestBodySize} bytes");
            return;
        }

        if (endStream)
        {
            if (stream.ContentLengthMismatch())
            {
                RemoveStream(stream);
                await WriteRstStreamAsync(streamId, Http2ErrorCode.ProtocolError);
                return;
            }

            Dispatch(stream);
        }
    }

    private async ValueTask OnTrailersAsync(int streamId, bool listTooLarge)
    {
        InnerHttp2Stream? stream;
        lock (_state)
        {
            _streams.TryGetValue(streamId, out stream);
        }

        if (stream is null)
        {
            return;
        }

        if (listTooLarge || _head.Error is not null || !stream.EndRequest())
        {
            stream.Abort(resetByClient: false);
            RemoveStream(stream);
            await WriteRstStreamAsync(streamId, Http2ErrorCode.ProtocolError);
            return;
        }

        Dispatch(stream);
    }

    private ValueTask OnPriority(Http2FrameHeader header)
    {
        if (header.StreamId == 0)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "PRIORITY frame on stream 0");
        }

        if (header.Length != 5)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, $"PRIORITY frame of {header.Length} bytes (must be 5)");
        }

        return ValueTask.CompletedTask;
    }

    private ValueTask OnRstStream(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (header.StreamId == 0)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "RST_STREAM frame on stream 0");
        }

        if (header.Length != 4)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, $"RST_STREAM frame of {header.Length} bytes (must be 4)");
        }

        if (header.StreamId > _lastStreamId)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"RST_STREAM on idle stream {header.StreamId}");
        }

        InnerHttp2Stream? stream;
        lock (_state)
        {
            _streams.TryGetValue(header.StreamId, out stream);
        }

        stream?.Abort(resetByClient: true);
        return ValueTask.CompletedTask;
    }

    private async ValueTask OnSettingsAsync(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (header.StreamId != 0)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"SETTINGS frame on stream {header.StreamId}");
        }

        if (header.HasFlag(Http2FrameFlags.Ack))
        {
            if (header.Length != 0)
            {
                throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, "SETTINGS acknowledgement with a payload");
            }

            return;
        }

        if (header.Length % 6 != 0)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, $"SETTINGS frame of {header.Length} bytes (not a multiple of 6)");
        }

        var bytes = payload.ToArray();
        for (var offset = 0; offset < bytes.Length; offset += 6)
        {
            var id = (Http2SettingId)BinaryPrimitives.ReadUInt16BigEndian(bytes.AsSpan(offset));
            var value = BinaryPrimitives.ReadUInt32BigEndian(bytes.AsSpan(offset + 2));
            ApplySetting(id, value);
        }

        await WriteFrameAsync(new Http2FrameHeader(0, Http2FrameType.Settings, Http2FrameFlags.Ack, 0), ReadOnlyMemory<byte>.Empty);
    }

    private void ApplySetting(Http2SettingId id, uint value)
    {
        switch (id)
        {
            case Http2SettingId.EnablePush when value > 1:
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"SETTINGS_ENABLE_PUSH {value} (must be 0 or 1)");
            case Http2SettingId.InitialWindowSize when value > Http2FrameHeader.MaxWindowSize:
                throw new Http2ConnectionException(Http2ErrorCode.FlowControlError, $"SETTINGS_INITIAL_WINDOW_SIZE {value} exceeds 2^31-1");
            case Http2SettingId.InitialWindowSize:
                lock (_state)
                {
                    var delta = (int)value - _peerInitialWindow;
                    _peerInitialWindow = (int)value;
                    foreach (var stream in _streams.Values)
                    {
                        if (!stream.AdjustSendWindow(delta))
                        {
                            throw new Http2ConnectionException(Http2ErrorCode.FlowControlError, $"SETTINGS_INITIAL_WINDOW_SIZE {value} overflows the window of stream {stream.Id}");
                        }
                    }

                    WakeWindowWaiters();
                }

                break;
            case Http2SettingId.MaxFrameSize when value is < Http2FrameHeader.DefaultMaxFrameSize or > Http2FrameHeader.MaxAllowedFrameSize:
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"SETTINGS_MAX_FRAME_SIZE {value} is outside 16384..16777215");
            case Http2SettingId.MaxFrameSize:
                // Frames stay at the default 16 KiB even when the client allows more (as Go's transport does not):
                // every 4077 plaintext bytes are a Noise record anyway, so larger frames would save a few headers.
                break;
            default:
                // HEADER_TABLE_SIZE: responses use no dynamic table. MAX_CONCURRENT_STREAMS: the server opens none.
                // MAX_HEADER_LIST_SIZE: response heads are a few fields. Unknown settings are ignored (§6.5.2).
                break;
        }
    }

    private async ValueTask OnPingAsync(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (header.StreamId != 0)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"PING frame on stream {header.StreamId}");
        }

        if (header.Length != 8)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, $"PING frame of {header.Length} bytes (must be 8)");
        }

        if (!header.HasFlag(Http2FrameFlags.Ack))
        {
            await WriteFrameAsync(new Http2FrameHeader(8, Http2FrameType.Ping, Http2FrameFlags.Ack, 0), payload.ToArray());
        }
    }

    private ValueTask OnGoAway(Http2FrameHeader header)
    {
        if (header.StreamId != 0)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"GOAWAY frame on stream {header.StreamId}");
        }

        if (header.Length < 8)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, $"GOAWAY frame of {header.Length} bytes (at least 8)");
        }

        // The client opens no more streams; those in flight finish, and the client closes the connection.
        return ValueTask.CompletedTask;
    }

    private async ValueTask OnWindowUpdateAsync(Http2FrameHeader header, ReadOnlySequence<byte> payload)
    {
        if (header.Length != 4)
        {
            throw new Http2ConnectionException(Http2ErrorCode.FrameSizeError, $"WINDOW_UPDATE frame of {header.Length} bytes (must be 4)");
        }

        Span<byte> bytes = stackalloc byte[4];
        payload.CopyTo(bytes);
        var increment = (int)(BinaryPrimitives.ReadUInt32BigEndian(bytes) & 0x7fff_ffff);
        if (header.StreamId == 0)
        {
            if (increment == 0)
            {
                throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, "WINDOW_UPDATE of 0 on the connection");
            }

            lock (_state)
            {
                _sendWindow += increment;
                if (_sendWindow > Http2FrameHeader.MaxWindowSize)
                {
                    throw new Http2ConnectionException(Http2ErrorCode.FlowControlError, "WINDOW_UPDATE grows the connection window past 2^31-1");
                }

                WakeWindowWaiters();
            }

            return;
        }

        if (header.StreamId > _lastStreamId)
        {
            throw new Http2ConnectionException(Http2ErrorCode.ProtocolError, $"WINDOW_UPDATE on idle stream {header.StreamId}");
        }

        InnerHttp2Stream? stream;
        lock (_state)
        {
            _streams.TryGetValue(header.StreamId, out stream);
        }

        if (stream is null)
        {
            return;
        }

        if (increment == 0 || !stream.AdjustSendWindow(increment))
        {
            stream.Abort(resetByClient: false);
            await WriteRstStreamAsync(stream.Id, increment == 0 ? Http2ErrorCode.ProtocolError : Http2ErrorCode.FlowControlError);
            return;
        }

        lock (_state)
        {
            WakeWindowWaiters();
        }
    }
}
