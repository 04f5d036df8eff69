using System.Buffers.Binary;
using System.Text;
using Headscale.Protocol.Client;
using Headscale.Protocol.Http2;
using Headscale.Protocol.Keys;

namespace Headscale.Api.Tests.ControlProtocol;

internal static class Http2Flags
{
    public const byte EndStream = 0x1;
    public const byte Ack = 0x1;
    public const byte EndHeaders = 0x4;
    public const byte Padded = 0x8;
    public const byte Priority = 0x20;
}

internal sealed record Http2Frame(Http2FrameType Type, byte Flags, int StreamId, byte[] Payload)
{
    public bool Has(byte flag) => (Flags & flag) != 0;

    /// <summary>The error code of a RST_STREAM or GOAWAY frame.</summary>
    public Http2ErrorCode ErrorCode => Type switch
    {
        Http2FrameType.RstStream => (Http2ErrorCode)BinaryPrimitives.ReadUInt32BigEndian(Payload),
        Http2FrameType.GoAway => (Http2ErrorCode)BinaryPrimitives.ReadUInt32BigEndian(Payload.AsSpan(4)),
        _ => throw new InvalidOperationException($"{Type} frames carry no error code"),
    };

    /// <summary>DATA or HEADERS content with padding and priority fields removed (RFC 9113 §6.1, §6.2).</summary>
    public ReadOnlySpan<byte> Content
    {
        get
        {
            var span = Payload.AsSpan();
            if (Type is not (Http2FrameType.Data or Http2FrameType.Headers))
            {
                return span;
            }

            var pad = 0;
            if (Has(Http2Flags.Padded))
            {
                pad = span[0];
                span = span[1..];
            }

            if (Type == Http2FrameType.Headers && Has(Http2Flags.Priority))
            {
                span = span[5..];
            }

            return span[..^pad];
        }
    }

    public override string ToString() =>
        $"{Type} flags=0x{Flags:x2} stream={StreamId} length={Payload.Length}"
        + (Type is Http2FrameType.RstStream or Http2FrameType.GoAway && Payload.Length >= 4 ? $" error={ErrorCode}" : string.Empty);
}

/// <summary>
/// A response as read off the wire: the status (null if the stream was reset first), the body, and the code of a
/// RST_STREAM on the stream or of a GOAWAY that ended the connection before the response did.
/// </summary>
internal sealed record Http2Response(int? Status, byte[] Body, Http2ErrorCode? Reset, Http2ErrorCode? GoAway);

/// <summary>
/// A hand-driven HTTP/2 client inside a real ts2021 connection: it writes exactly the frames a test asks for and reads
/// frames back with a deadline, tracking only what the tests need (the server's settings and the send windows).
/// </summary>
internal sealed class RawHttp2Connection : IAsyncDisposable
{
    public const int FrameHeaderSize = 9;
    public const int DefaultMaxFrameSize = 16384;
    public const int DefaultWindow = 65535;
    public static readonly byte[] Preface = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"u8.ToArray();
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    private readonly Ts2021Connection _connection;
    private readonly Stream _stream;
    private readonly CancellationToken _cancellationToken;
    private readonly Dictionary<int, long> _streamSendWindows = [];
    private readonly byte[] _header = new byte[FrameHeaderSize];

    private RawHttp2Connection(Ts2021Connection connection, MachinePublicKey machineKey, CancellationToken cancellationToken)
    {
        _connection = connection;
        _stream = connection.Stream;
        MachineKey = machineKey;
        _cancellationToken = cancellationToken;
    }

    public MachinePublicKey MachineKey { get; }

    /// <summary>The server's settings as its SETTINGS frames declared them (absent ones are not in the map).</summary>
    public Dictionary<Http2SettingId, uint> ServerSettings { get; } = [];

    public long ConnectionSendWindow { get; private set; } = DefaultWindow;

    /// <summary>The payload length of the largest frame the server sent.</summary>
    public int LargestFrameReceived { get; private set; }

    public static async Task<RawHttp2Connection> OpenAsync(Ts2021TestServer server, CancellationToken cancellationToken)
    {
        var machineKey = MachinePrivateKey.Generate();
        var connection = await Ts2021Connection.ConnectAsync(
            new Ts2021ClientOptions { ServerUrl = server.Url, MachineKey = machineKey, ServerKey = server.NoiseKey.PublicKey },
            cancellationToken);
        return new RawHttp2Connection(connection, machineKey.PublicKey, cancellationToken);
    }

    /// <summary>Opens the connection and completes the preface exchange (<see cref="SettleAsync"/>).</summary>
    public static async Task<RawHttp2Connection> OpenAndSettleAsync(
        Ts2021TestServer server, CancellationToken cancellationToken, params (Http2SettingId Id, uint Value)[] clientSettings)
    {
        var connection = await OpenAsync(server, cancellationToken);
        await connection.SettleAsync(clientSettings);
        return connection;
    }

    /// <summary>Writes the preface and the client SETTINGS, reads the server's SETTINGS (which must come first) and acknowledges it.</summary>
    public async Task<Http2Frame> SettleAsync(params (Http2SettingId Id, uint Value)[] clientSettings)
    {
        await WriteAsync(Preface);
        await WriteSettingsAsync(clientSettings);
        var first = await ReadFrameAsync() ?? throw new IOException("the server closed the connection instead of sending SETTINGS");
        Assert.Equal(Http2FrameType.Settings, first.Type);
        Assert.False(first.Has(Http2Flags.Ack), "the server's first frame must be its own SETTINGS, not an acknowledgement");
        await WriteFrameAsync(Http2FrameType.Settings, Http2Flags.Ack, 0, []);
        return first;
    }

    public int InitialSendWindow =>
        ServerSettings.TryGetValue(Http2SettingId.InitialWindowSize, out var value) ? checked((int)value) : DefaultWindow;

    public long StreamSendWindow(int streamId) => _streamSendWindows.TryGetValue(streamId, out var window) ? window : InitialSendWindow;

    public async Task WriteAsync(byte[] bytes)
    {
        using var timeout = Timeout();
        await _stream.WriteAsync(bytes, timeout.Token);
        await _stream.FlushAsync(timeout.Token);
    }

    public static byte[] Frame(Http2FrameType type, byte flags, int streamId, ReadOnlySpan<byte> payload, int? declaredLength = null)
    {
        var frame = new byte[FrameHeaderSize + payload.Length];
        var length = declaredLength ?? payload.Length;
        frame[0] = (byte)(length >> 16);
        frame[1] = (byte)(length >> 8);
        frame[2] = (byte)length;
        frame[3] = (byte)type;
        frame[4] = flags;
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(5), streamId);
        payload.CopyTo(frame.AsSpan(FrameHeaderSize));
        return frame;
    }

    public Task WriteFrameAsync(Http2FrameType type, byte flags, int streamId, ReadOnlySpan<byte> payload)
    {
        if (type == Http2FrameType.Data)
        {
            ConnectionSendWindow -= payload.Length;
            _streamSendWindows[streamId] = StreamSendWindow(streamId) - payload.Length;
        }

        return WriteAsync(Frame(type, flags, streamId, payload));
    }

    public Task WriteSettingsAsync(params (Http2SettingId Id, uint Value)[] settings)
    {
        var payload = new byte[settings.Length * 6];
        for (var i = 0; i < settings.Length; i++)
        {
            BinaryPrimitives.WriteUInt16BigEndian(payload.AsSpan(i * 6), (ushort)settings[i].Id);
            BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan((i * 6) + 2), settings[i].Value);
        }

        return WriteFrameAsync(Http2FrameType.Settings, 0, 0, payload);
    }

    public Task WritePingAsync(ReadOnlySpan<byte> data, byte flags = 0) => WriteFrameAsync(Http2FrameType.Ping, flags, 0, data);

    public Task WriteWindowUpdateAsync(int streamId, uint increment)
    {
        var payload = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(payload, increment);
        return WriteFrameAsync(Http2FrameType.WindowUpdate, 0, streamId, payload);
    }

    public Task WriteRstStreamAsync(int streamId, Http2ErrorCode code)
    {
        var payload = new byte[4];
        BinaryPrimitives.WriteUInt32BigEndian(payload, (uint)code);
        return WriteFrameAsync(Http2FrameType.RstStream, 0, streamId, payload);
    }

    /// <summary>HEADERS (END_HEADERS set) for a request with the usual pseudo-headers, then any <paramref name="extra"/> fields.</summary>
    public Task WriteRequestAsync(int streamId, string method, string path, bool endStream, params (string Name, string Value)[] extra) =>
        WriteHeadersAsync(streamId, endStream, [(":method", method), (":scheme", "http"), (":authority", "test"), (":path", path), .. extra]);

    public Task WriteHeadersAsync(int streamId, bool endStream, params (string Name, string Value)[] fields) =>
        WriteFrameAsync(Http2FrameType.Headers, (byte)(Http2Flags.EndHeaders | (endStream ? Http2Flags.EndStream : 0)), streamId, EncodeHeaders(fields));

    /// <summary>
    /// An HPACK block of "literal header field without indexing, new name" fields, no Huffman (RFC 7541 §6.2.2): nothing
    /// the server decodes depends on table state, so each block stands alone.
    /// </summary>
    public static byte[] EncodeHeaders(params (string Name, string Value)[] fields)
    {
        var block = new List<byte>();
        foreach (var (name, value) in fields)
        {
            block.Add(0x00);
            AppendString(block, name);
            AppendString(block, value);
        }

        return [.. block];
    }

    private static void AppendString(List<byte> block, string text)
    {
        var bytes = Encoding.ASCII.GetBytes(text);
        AppendInteger(block, 0x00, 7, bytes.Length);
        block.AddRange(bytes);
    }

    /// <summary>An HPACK integer with an N-bit prefix (RFC 7541 §5.1), the first byte's high bits taken from <paramref name="firstByteBits"/>.</summary>
    private static void AppendInteger(List<byte> block, byte firstByteBits, int prefixBits, int value)
    {
        var max = (1 << prefixBits) - 1;
        if (value < max)
        {
            block.Add((byte)(firstByteBits | value));
            return;
        }

        block.Add((byte)(firstByteBits | max));
        value -= max;
        while (value >= 0x80)
        {
            block.Add((byte)((value & 0x7f) | 0x80));
            value >>= 7;
        }

        block.Add((byte)value);
    }

    /// <summary>
    /// The <c>:status</c> of a response header block: its first field, either an indexed static entry (8-14) or a literal
    /// whose name is static entry 8. A leading dynamic table size update is skipped. Nothing after the status is decoded.
    /// </summary>
    public static int DecodeStatus(ReadOnlySpan<byte> block)
    {
        var position = 0;
        while ((block[position] & 0xe0) == 0x20)
        {
            ReadInteger(block, ref position, 5);
        }

        var first = block[position];
        if ((first & 0x80) != 0)
        {
            var index = ReadInteger(block, ref position, 7);
            return index switch
            {
                8 => 200,
                9 => 204,
                10 => 206,
                11 => 304,
                12 => 400,
                13 => 404,
                14 => 500,
                _ => throw new InvalidDataException($"first response header is static entry {index}, not :status"),
            };
        }

        // Literal with incremental indexing has a 6-bit name index; without indexing and never indexed have 4 bits.
        var nameIndex = (first & 0xc0) == 0x40 ? ReadInteger(block, ref position, 6) : ReadInteger(block, ref position, 4);
        if (nameIndex is < 8 or > 14)
        {
            throw new InvalidDataException($"first response header has name index {nameIndex}, not :status");
        }

        var huffman = (block[position] & 0x80) != 0;
        var length = ReadInteger(block, ref position, 7);
        if (huffman)
        {
            throw new InvalidDataException("the :status value is Huffman-encoded, which this harness does not decode");
        }

        return int.Parse(block.Slice(position, length), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static int ReadInteger(ReadOnlySpan<byte> block, ref int position, int prefixBits)
    {
        var max = (1 << prefixBits) - 1;
        var value = block[position++] & max;
        if (value < max)
        {
            return value;
        }

        var shift = 0;
        byte next;
        do
        {
            next = block[position++];
            value += (next & 0x7f) << shift;
            shift += 7;
        }
        while ((next & 0x80) != 0);

        return value;
    }

    /// <summary>The next frame, or null once the server closed the connection. Fails the test if nothing comes in time.</summary>
    public async Task<Http2Frame?> ReadFrameAsync()
    {
        using var timeout = Timeout();
        try
        {
            var read = await _stream.ReadAtLeastAsync(_header, FrameHeaderSize, throwOnEndOfStream: false, timeout.Token);
            if (read == 0)
            {
                return null;
            }

            if (read < FrameHeaderSize)
            {
                throw new InvalidDataException($"the connection ended inside a frame header ({read} of {FrameHeaderSize} bytes)");
            }

            var length = (_header[0] << 16) | (_header[1] << 8) | _header[2];
            var frame = new Http2Frame(
                (Http2FrameType)_header[3], _header[4], BinaryPrimitives.ReadInt32BigEndian(_header.AsSpan(5)) & int.MaxValue, new byte[length]);
            await _stream.ReadExactlyAsync(frame.Payload, timeout.Token);
            LargestFrameReceived = Math.Max(LargestFrameReceived, length);
            Track(frame);
            return frame;
        }
        catch (OperationCanceledException) when (!_cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"no frame from the server within {Deadline.TotalSeconds} s");
        }
        catch (IOException)
        {
            // A reset or broken transport is a close as far as these tests are concerned.
            return null;
        }
    }

    /// <summary>Reads until a frame matches, failing if the connection closes first. Frames before it are returned too.</summary>
    public async Task<(Http2Frame Match, List<Http2Frame> Before)> ReadUntilAsync(Func<Http2Frame, bool> match)
    {
        var before = new List<Http2Frame>();
        while (true)
        {
            var frame = await ReadFrameAsync();
            if (frame is null)
            {
                Assert.Fail($"the server closed the connection; frames before: {string.Join("; ", before)}");
            }

            if (match(frame))
            {
                return (frame, before);
            }

            before.Add(frame);
        }
    }

    /// <summary>
    /// Asserts a connection error: the server sends GOAWAY with <paramref name="code"/> (or one of <paramref name="alternatives"/>,
    /// where the RFC allows more than one; frames before it are skipped) and then closes the connection.
    /// </summary>
    public async Task AssertConnectionErrorAsync(Http2ErrorCode code, params Http2ErrorCode[] alternatives)
    {
        var (goAway, _) = await ReadUntilAsync(frame => frame.Type == Http2FrameType.GoAway);
        Assert.Equal(0, goAway.StreamId);
        Assert.Contains(goAway.ErrorCode, (Http2ErrorCode[])[code, .. alternatives]);
        await AssertClosedAsync(goAway.ErrorCode);
    }

    /// <summary>Reads until the server closes the connection; any GOAWAY on the way must carry <paramref name="code"/>.</summary>
    public async Task AssertClosedAsync(Http2ErrorCode code = Http2ErrorCode.NoError)
    {
        while (await ReadFrameAsync() is { } frame)
        {
            if (frame.Type == Http2FrameType.GoAway && frame.ErrorCode != Http2ErrorCode.NoError)
            {
                Assert.Equal(code, frame.ErrorCode);
            }
        }
    }

    /// <summary>Writes a PING and waits for its acknowledgement, returning every frame that came before it.</summary>
    public async Task<List<Http2Frame>> RoundTripPingAsync()
    {
        var data = new byte[8];
        Random.Shared.NextBytes(data);
        await WritePingAsync(data);
        var (ack, before) = await ReadUntilAsync(frame => frame.Type == Http2FrameType.Ping && frame.Has(Http2Flags.Ack));
        Assert.Equal(data, ack.Payload);
        return before;
    }

    /// <summary>Reads one response on <paramref name="streamId"/>: until END_STREAM or RST_STREAM on it, or a GOAWAY. Other streams' frames are skipped.</summary>
    /// <param name="widenWindows">Give back every DATA frame's bytes with WINDOW_UPDATEs (stream and connection), as a reading client does.</param>
    public async Task<Http2Response> ReadResponseAsync(int streamId, bool widenWindows = false)
    {
        int? status = null;
        var body = new List<byte>();
        while (true)
        {
            var (frame, _) = await ReadUntilAsync(f => f.StreamId == streamId || f.Type == Http2FrameType.GoAway);
            switch (frame.Type)
            {
                case Http2FrameType.GoAway:
                    return new Http2Response(status, [.. body], null, frame.ErrorCode);
                case Http2FrameType.RstStream:
                    return new Http2Response(status, [.. body], frame.ErrorCode, null);
                case Http2FrameType.Headers when status is null:
                    Assert.True(frame.Has(Http2Flags.EndHeaders), "response headers continued in CONTINUATION frames, which this harness does not join");
                    status = DecodeStatus(frame.Content);
                    break;
                case Http2FrameType.Data:
                    Assert.NotNull(status);
                    body.AddRange(frame.Content);
                    if (widenWindows && frame.Payload.Length > 0)
                    {
                        await WriteWindowUpdateAsync(0, (uint)frame.Payload.Length);
                        if (!frame.Has(Http2Flags.EndStream))
                        {
                            await WriteWindowUpdateAsync(streamId, (uint)frame.Payload.Length);
                        }
                    }

                    break;
            }

            if (frame.Type is Http2FrameType.Headers or Http2FrameType.Data && frame.Has(Http2Flags.EndStream))
            {
                return new Http2Response(status, [.. body], null, null);
            }
        }
    }

    /// <summary>A GET on <paramref name="streamId"/> and its response.</summary>
    public async Task<Http2Response> GetAsync(int streamId, string path)
    {
        await WriteRequestAsync(streamId, "GET", path, endStream: true);
        return await ReadResponseAsync(streamId);
    }

    /// <summary>
    /// Sends <paramref name="length"/> bytes of DATA on the stream without ever exceeding the server's windows, reading
    /// frames (and so WINDOW_UPDATEs) whenever a window is spent. Stops early, returning that frame, once the server
    /// answers or resets the stream; returns null when everything was sent.
    /// </summary>
    public async Task<Http2Frame?> WriteBodyWithinWindowsAsync(int streamId, long length, bool endStream)
    {
        var chunk = new byte[MaxSendFrameSize];
        var sent = 0L;
        while (sent < length)
        {
            var count = (int)Math.Min(Math.Min(length - sent, chunk.Length), Math.Min(ConnectionSendWindow, StreamSendWindow(streamId)));
            if (count > 0)
            {
                sent += count;
                await WriteFrameAsync(Http2FrameType.Data, sent == length && endStream ? Http2Flags.EndStream : (byte)0, streamId, chunk.AsSpan(0, count));
                continue;
            }

            var frame = await ReadFrameAsync() ?? throw new IOException($"the server closed the connection after {sent} of {length} body bytes");
            if (frame.StreamId == streamId && frame.Type is Http2FrameType.Headers or Http2FrameType.RstStream)
            {
                return frame;
            }

            Assert.False(frame.Type == Http2FrameType.GoAway, $"GOAWAY {frame} after {sent} of {length} body bytes");
        }

        return null;
    }

    private int MaxSendFrameSize =>
        ServerSettings.TryGetValue(Http2SettingId.MaxFrameSize, out var value) ? (int)value : DefaultMaxFrameSize;

    private void Track(Http2Frame frame)
    {
        switch (frame.Type)
        {
            case Http2FrameType.Settings when !frame.Has(Http2Flags.Ack):
                for (var offset = 0; offset + 6 <= frame.Payload.Length; offset += 6)
                {
                    var id = (Http2SettingId)BinaryPrimitives.ReadUInt16BigEndian(frame.Payload.AsSpan(offset));
                    var value = BinaryPrimitives.ReadUInt32BigEndian(frame.Payload.AsSpan(offset + 2));
                    if (id == Http2SettingId.InitialWindowSize)
                    {
                        // RFC 9113 §6.9.2: a new initial window size shifts every open stream's window by the difference.
                        var old = InitialSendWindow;
                        foreach (var stream in _streamSendWindows.Keys.ToList())
                        {
                            _streamSendWindows[stream] += (long)value - old;
                        }
                    }

                    ServerSettings[id] = value;
                }

                break;
            case Http2FrameType.WindowUpdate when frame.Payload.Length == 4:
                var increment = BinaryPrimitives.ReadUInt32BigEndian(frame.Payload) & int.MaxValue;
                if (frame.StreamId == 0)
                {
                    ConnectionSendWindow += increment;
                }
                else
                {
                    _streamSendWindows[frame.StreamId] = StreamSendWindow(frame.StreamId) + increment;
                }

                break;
        }
    }

    private CancellationTokenSource Timeout()
    {
        var timeout = CancellationTokenSource.CreateLinkedTokenSource(_cancellationToken);
        timeout.CancelAfter(Deadline);
        return timeout;
    }

    public ValueTask DisposeAsync() => _connection.DisposeAsync();
}
