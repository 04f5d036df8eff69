using System.Buffers;
using System.Buffers.Binary;
using Headscale.Protocol.Http2;

namespace Headscale.Api.ControlProtocol.InnerHttp2;

/// <summary>Writing frames: flow-control windows both ways, and every frame the server sends, under one write lock.</summary>
internal sealed partial class InnerHttp2Connection
{
    /// <summary>Gives back receive window for request bytes the server no longer holds.</summary>
    internal async ValueTask ReturnReceiveWindowAsync(int bytes)
    {
        lock (_state)
        {
            _receiveWindow += bytes;
        }

        await WriteWindowUpdateAsync(0, bytes);
    }

    /// <summary>
    /// Takes up to <paramref name="wanted"/> bytes of send window from the connection and the stream, waiting while either
    /// is empty. Zero when the stream or the connection is gone: the data is dropped, as for a client that went away.
    /// </summary>
    internal async ValueTask<int> ReserveSendWindowAsync(InnerHttp2Stream stream, int wanted)
    {
        while (true)
        {
            Task wait;
            lock (_state)
            {
                if (_closed || stream.IsAborted)
                {
                    return 0;
                }

                var granted = (int)Math.Min(wanted, Math.Min(_sendWindow, stream.SendWindow));
                if (granted > 0)
                {
                    _sendWindow -= granted;
                    stream.TakeSendWindow(granted);
                    return granted;
                }

                wait = stream.WaitForWindow();
                if (!_windowWaiters.Contains(stream))
                {
                    _windowWaiters.Add(stream);
                }
            }

            await wait;
        }
    }

    private void WakeWindowWaiters()
    {
        foreach (var waiter in _windowWaiters)
        {
            waiter.WindowChanged();
        }

        _windowWaiters.Clear();
    }

    private ValueTask WriteInitialSettingsAsync()
    {
        var payload = new byte[18 + 4];
        WriteSetting(payload, Http2SettingId.MaxConcurrentStreams, (uint)Limits.MaxConcurrentStreams);
        WriteSetting(payload.AsSpan(6), Http2SettingId.InitialWindowSize, (uint)Limits.StreamReceiveWindow);
        WriteSetting(payload.AsSpan(12), Http2SettingId.MaxHeaderListSize, (uint)Limits.MaxHeaderListSize);
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(18), (uint)(Limits.ConnectionReceiveWindow - Http2FrameHeader.DefaultWindowSize));
        return WriteFramesAsync(
            new Http2FrameHeader(18, Http2FrameType.Settings, Http2FrameFlags.None, 0), payload.AsMemory(0, 18),
            new Http2FrameHeader(4, Http2FrameType.WindowUpdate, Http2FrameFlags.None, 0), payload.AsMemory(18, 4));

        static void WriteSetting(Span<byte> destination, Http2SettingId id, uint value)
        {
            BinaryPrimitives.WriteUInt16BigEndian(destination, (ushort)id);
            BinaryPrimitives.WriteUInt32BigEndian(destination[2..], value);
        }
    }

    private ValueTask WriteGoAwayAsync(Http2ErrorCode code)
    {
        var payload = new byte[8];
        BinaryPrimitives.WriteUInt32BigEndian(payload, (uint)_lastStreamId);
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(4), (uint)code);
        return WriteFrameAsync(new Http2FrameHeader(8, Http2FrameType.GoAway, Http2FrameFlags.None, 0), payload);
    }

    internal ValueTask WriteRstStreamAsync(int streamId, Http2ErrorCode code)
    {
        lock (_state)
        {
            // Made on the first reset: most connections (a node's map poll) never reset a stream.
            _recentlyReset ??= new int[RecentlyResetKept];
            _recentlyReset[_recentlyResetNext] = streamId;
            _recentlyResetNext = (_recentlyResetNext + 1) % _recentlyReset.Length;
        }

        var payload = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(payload, (uint)code);
        return WriteFrameAsync(new Http2FrameHeader(4, Http2FrameType.RstStream, Http2FrameFlags.None, streamId), payload);
    }

    private bool WasRecentlyReset(int streamId)
    {
        lock (_state)
        {
            return _recentlyReset is { } recent && Array.IndexOf(recent, streamId) >= 0;
        }
    }

    private ValueTask WriteWindowUpdateAsync(int streamId, int increment)
    {
        var payload = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(payload, (uint)increment);
        return WriteFrameAsync(new Http2FrameHeader(4, Http2FrameType.WindowUpdate, Http2FrameFlags.None, streamId), payload);
    }

    private ValueTask WriteFrameAsync(Http2FrameHeader header, ReadOnlyMemory<byte> payload) =>
        WriteFramesAsync(header, payload, default, default);

    private async ValueTask WriteFramesAsync(Http2FrameHeader first, ReadOnlyMemory<byte> firstPayload, Http2FrameHeader second, ReadOnlyMemory<byte> secondPayload)
    {
        await _writeLock.WaitAsync();
        try
        {
            if (_outputClosed)
            {
                return;
            }

            Put(first, firstPayload.Span);
            if (second.Type != default || second.Length != 0 || second.StreamId != 0 || second.Flags != default)
            {
                Put(second, secondPayload.Span);
            }

            await FlushLockedAsync();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>A response head: one HEADERS frame, or HEADERS and CONTINUATIONs when it exceeds the peer's frame size.</summary>
    internal async ValueTask WriteHeadersAsync(int streamId, ReadOnlyMemory<byte> block, bool endStream)
    {
        await _writeLock.WaitAsync();
        try
        {
            if (_outputClosed)
            {
                return;
            }

            const int maxFrame = Http2FrameHeader.DefaultMaxFrameSize;
            var type = Http2FrameType.Headers;
            var remaining = block.Span;
            do
            {
                var size = Math.Min(remaining.Length, maxFrame);
                var flags = size == remaining.Length ? Http2FrameFlags.EndHeaders : Http2FrameFlags.None;
                if (type == Http2FrameType.Headers && endStream)
                {
                    flags |= Http2FrameFlags.EndStream;
                }

                Put(new Http2FrameHeader(size, type, flags, streamId), remaining[..size]);
                remaining = remaining[size..];
                type = Http2FrameType.Continuation;
            }
            while (!remaining.IsEmpty);

            await FlushLockedAsync();
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>
    /// Response body bytes as DATA frames, within the flow-control windows: as much as the windows allow goes out under
    /// one lock and one flush; the rest waits for WINDOW_UPDATE. Dropped if the stream was reset or the connection closed.
    /// </summary>
    internal async ValueTask WriteDataAsync(InnerHttp2Stream stream, ReadOnlyMemory<byte> data, bool endStream)
    {
        if (data.IsEmpty)
        {
            if (endStream && !stream.IsAborted)
            {
                await WriteFrameAsync(new Http2FrameHeader(0, Http2FrameType.Data, Http2FrameFlags.EndStream, stream.Id), default);
            }

            return;
        }

        while (!data.IsEmpty)
        {
            var granted = await ReserveSendWindowAsync(stream, data.Length);
            if (granted == 0)
            {
                return;
            }

            await _writeLock.WaitAsync();
            try
            {
                if (_outputClosed)
                {
                    return;
                }

                const int maxFrame = Http2FrameHeader.DefaultMaxFrameSize;
                var chunk = data.Span[..granted];
                while (!chunk.IsEmpty)
                {
                    var size = Math.Min(chunk.Length, maxFrame);
                    var last = size == chunk.Length && granted == data.Length;
                    Put(new Http2FrameHeader(size, Http2FrameType.Data, last && endStream ? Http2FrameFlags.EndStream : Http2FrameFlags.None, stream.Id), chunk[..size]);
                    chunk = chunk[size..];
                }

                await FlushLockedAsync();
            }
            finally
            {
                _writeLock.Release();
            }

            data = data[granted..];
        }
    }

    private void Put(Http2FrameHeader header, ReadOnlySpan<byte> payload)
    {
        var span = _output.GetSpan(Http2FrameHeader.Size + payload.Length);
        header.Write(span);
        payload.CopyTo(span[Http2FrameHeader.Size..]);
        _output.Advance(Http2FrameHeader.Size + payload.Length);
    }

    private async ValueTask FlushLockedAsync()
    {
        try
        {
            var result = await _output.FlushAsync();
            if (result.IsCompleted || result.IsCanceled)
            {
                MarkOutputGone();
            }
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or OperationCanceledException or ObjectDisposedException
                                       or Headscale.Protocol.Noise.NoiseProtocolException)
        {
            MarkOutputGone();
        }
    }

    private void MarkOutputGone()
    {
        _outputClosed = true;
        lock (_state)
        {
            _closed = true;
            WakeWindowWaiters();
        }

        _input.CancelPendingRead();
    }

    private async ValueTask CloseOutputAsync()
    {
        await _writeLock.WaitAsync();
        try
        {
            _outputClosed = true;
            await _output.CompleteAsync();
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or OperationCanceledException or ObjectDisposedException)
        {
        }
        finally
        {
            _writeLock.Release();
        }
    }
}
