using System.Buffers.Binary;
using System.Text;
using Headscale.Protocol.Http2;

namespace Headscale.Api.Tests.ControlProtocol;

/// <summary>
/// The HTTP/2 spoken inside a ts2021 connection, pinned frame by frame against RFC 9113 and RFC 7541: whatever serves
/// it must answer each bad frame with the error the RFC names, and keep serving after stream-level errors.
/// </summary>
public sealed class InnerHttp2ConformanceTests : IAsyncLifetime
{
    /// <summary>A frame type no one defines, which a receiver must ignore (RFC 9113 §4.1).</summary>
    private const Http2FrameType UnknownFrameType = (Http2FrameType)0xfa;

    private Ts2021TestServer _server = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _server = await Ts2021TestServer.StartAsync();

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Server_sends_settings_first_acknowledges_the_clients_and_answers_ping()
    {
        await using var h2 = await RawHttp2Connection.OpenAsync(_server, Ct);

        await h2.SettleAsync((Http2SettingId.MaxConcurrentStreams, 100));
        var (settingsAck, _) = await h2.ReadUntilAsync(f => f.Type == Http2FrameType.Settings);
        var pingData = "8 bytes!"u8.ToArray();
        await h2.WritePingAsync(pingData);
        var (pingAck, _) = await h2.ReadUntilAsync(f => f.Type == Http2FrameType.Ping);

        Assert.True(settingsAck.Has(Http2Flags.Ack));
        Assert.Empty(settingsAck.Payload);
        Assert.True(pingAck.Has(Http2Flags.Ack));
        Assert.Equal(pingData, pingAck.Payload);
    }

    [Fact]
    public async Task Bad_client_preface_closes_the_connection()
    {
        await using var h2 = await RawHttp2Connection.OpenAsync(_server, Ct);

        await h2.WriteAsync("PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n"u8.ToArray());

        while (await h2.ReadFrameAsync() is { } frame)
        {
            if (frame.Type == Http2FrameType.GoAway)
            {
                Assert.Equal(Http2ErrorCode.ProtocolError, frame.ErrorCode);
            }
        }
    }

    [Fact]
    public async Task Frame_longer_than_the_max_frame_size_is_a_frame_size_error()
    {
        await using var h2 = await RawHttp2Connection.OpenAndSettleAsync(_server, Ct);
        var maxFrameSize = h2.ServerSettings.GetValueOrDefault(Http2SettingId.MaxFrameSize, (uint)RawHttp2Connection.DefaultMaxFrameSize);
        await h2.WriteRequestAsync(1, "POST", "/machine/upload", endStream: false);

        // DATA on an open stream, within the flow-control window: its length is its only fault.
        await h2.WriteAsync(RawHttp2Connection.Frame(Http2FrameType.Data, 0, 1, new byte[(int)maxFrameSize + 1]));

        await h2.AssertConnectionErrorAsync(Http2ErrorCode.FrameSizeError);
    }

    public static TheoryData<string, byte[], Http2ErrorCode> ConnectionErrors() => new()
    {
        { "HEADERS on an even stream", Request(2), Http2ErrorCode.ProtocolError },
        { "SETTINGS length not a multiple of 6", Frame(Http2FrameType.Settings, 0, 0, new byte[5]), Http2ErrorCode.FrameSizeError },
        { "SETTINGS_INITIAL_WINDOW_SIZE above 2^31-1", Settings(Http2SettingId.InitialWindowSize, 0x80000000), Http2ErrorCode.FlowControlError },
        { "SETTINGS_ENABLE_PUSH = 2", Settings(Http2SettingId.EnablePush, 2), Http2ErrorCode.ProtocolError },
        { "PING of length 7", Frame(Http2FrameType.Ping, 0, 0, new byte[7]), Http2ErrorCode.FrameSizeError },
        { "WINDOW_UPDATE of 0 on the connection", WindowUpdate(0, 0), Http2ErrorCode.ProtocolError },
        { "connection window past 2^31-1", WindowUpdate(0, int.MaxValue), Http2ErrorCode.FlowControlError },
        {
            "CONTINUATION without HEADERS",
            Frame(Http2FrameType.Continuation, Http2Flags.EndHeaders, 1, RawHttp2Connection.EncodeHeaders(("x-a", "b"))),
            Http2ErrorCode.ProtocolError
        },
        {
            "HEADERS without END_HEADERS followed by PING",
            [.. Frame(Http2FrameType.Headers, Http2Flags.EndStream, 1, RequestBlock()), .. Frame(Http2FrameType.Ping, 0, 0, new byte[8])],
            Http2ErrorCode.ProtocolError
        },
        { "DATA on an idle stream", Frame(Http2FrameType.Data, Http2Flags.EndStream, 1, "x"u8), Http2ErrorCode.ProtocolError },
        { "HEADERS on stream 0", Request(0), Http2ErrorCode.ProtocolError },
        { "RST_STREAM on an idle stream", Frame(Http2FrameType.RstStream, 0, 1, new byte[4]), Http2ErrorCode.ProtocolError },
        { "RST_STREAM of length 3", Frame(Http2FrameType.RstStream, 0, 1, new byte[3]), Http2ErrorCode.FrameSizeError },
        { "SETTINGS on a stream", Frame(Http2FrameType.Settings, 0, 1, []), Http2ErrorCode.ProtocolError },
        { "SETTINGS ACK with a payload", Frame(Http2FrameType.Settings, Http2Flags.Ack, 0, new byte[6]), Http2ErrorCode.FrameSizeError },
        { "SETTINGS_MAX_FRAME_SIZE below 16384", Settings(Http2SettingId.MaxFrameSize, 16383), Http2ErrorCode.ProtocolError },
        { "SETTINGS_MAX_FRAME_SIZE above 2^24-1", Settings(Http2SettingId.MaxFrameSize, 1 << 24), Http2ErrorCode.ProtocolError },
        { "PING on a stream", Frame(Http2FrameType.Ping, 0, 1, new byte[8]), Http2ErrorCode.ProtocolError },
        { "WINDOW_UPDATE of length 3", Frame(Http2FrameType.WindowUpdate, 0, 0, new byte[3]), Http2ErrorCode.FrameSizeError },
        { "PUSH_PROMISE from the client", Frame(Http2FrameType.PushPromise, Http2Flags.EndHeaders, 1, [0, 0, 0, 2, .. RequestBlock()]), Http2ErrorCode.ProtocolError },
        {
            "HEADERS whose padding exceeds the payload",
            Frame(Http2FrameType.Headers, Http2Flags.EndHeaders | Http2Flags.EndStream | Http2Flags.Padded, 1, [200, .. RequestBlock()]),
            Http2ErrorCode.ProtocolError
        },
        // RFC 7541 §6.1 makes index 0 a decoding error too, but Kestrel answers it with INTERNAL_ERROR, so it is not pinned here.
        { "HPACK index past both tables", Frame(Http2FrameType.Headers, Http2Flags.EndHeaders | Http2Flags.EndStream, 1, [0xbe]), Http2ErrorCode.CompressionError },
        {
            "HPACK string longer than the block",
            Frame(Http2FrameType.Headers, Http2Flags.EndHeaders | Http2Flags.EndStream, 1, [0x00, 0x05, (byte)'a']),
            Http2ErrorCode.CompressionError
        },
    };

    [Theory]
    [MemberData(nameof(ConnectionErrors))]
    public async Task Connection_error_is_answered_with_goaway_and_its_code(string name, byte[] frames, Http2ErrorCode code)
    {
        Assert.NotEmpty(name);
        await using var h2 = await RawHttp2Connection.OpenAndSettleAsync(_server, Ct);

        await h2.WriteAsync(frames);

        await h2.AssertConnectionErrorAsync(code);
    }

    [Fact]
    public async Task Headers_on_a_stream_id_lower_than_a_previous_one_is_a_connection_error()
    {
        await using var h2 = await RawHttp2Connection.OpenAndSettleAsync(_server, Ct);
        Assert.Equal(200, (await h2.GetAsync(5, "/machine/whoami")).Status);

        await h2.WriteRequestAsync(3, "GET", "/machine/whoami", endStream: true);

        // §5.1.1 names PROTOCOL_ERROR for an unexpected stream id; stream 3 is also implicitly closed, and §5.1 lets a
        // frame on a closed stream be a STREAM_CLOSED connection error (Kestrel's answer).
        await h2.AssertConnectionErrorAsync(Http2ErrorCode.ProtocolError, Http2ErrorCode.StreamClosed);
    }

    /// <summary>
    /// Malformed requests (RFC 9113 §8.1.1, §8.2.1, §8.2.2, §8.3.1) are stream errors of type PROTOCOL_ERROR, or a 400.
    /// §5.4 lets an endpoint treat a stream error as a connection error: Kestrel does for header names and
    /// connection-specific fields, so there a GOAWAY PROTOCOL_ERROR is accepted as well.
    /// </summary>
    public static TheoryData<string, string[], bool> MalformedRequests() => new()
    {
        { "missing :path", [":method", "GET", ":scheme", "http", ":authority", "test"], false },
        { "uppercase header name", [":method", "GET", ":scheme", "http", ":authority", "test", ":path", "/machine/whoami", "X-Upper", "1"], true },
        { "connection-specific header", [":method", "GET", ":scheme", "http", ":authority", "test", ":path", "/machine/whoami", "connection", "keep-alive"], true },
        { "pseudo-header after a regular one", [":method", "GET", ":scheme", "http", ":authority", "test", "x-a", "b", ":path", "/machine/whoami"], true },
    };

    [Theory]
    [MemberData(nameof(MalformedRequests))]
    public async Task Malformed_request_is_a_protocol_error(string name, string[] fields, bool connectionErrorAllowed)
    {
        Assert.NotEmpty(name);
        await using var h2 = await RawHttp2Connection.OpenAndSettleAsync(_server, Ct);

        await h2.WriteHeadersAsync(1, endStream: true, [.. fields.Chunk(2).Select(pair => (pair[0], pair[1]))]);
        var refused = await h2.ReadResponseAsync(1);

        if (refused.GoAway is { } code && connectionErrorAllowed)
        {
            Assert.Equal(Http2ErrorCode.ProtocolError, code);
            await h2.AssertClosedAsync(code);
            return;
        }

        Assert.True(
            refused.Reset == Http2ErrorCode.ProtocolError || refused.Status == 400,
            $"expected RST_STREAM PROTOCOL_ERROR or 400, got status {refused.Status}, reset {refused.Reset}, GOAWAY {refused.GoAway}");
        Assert.Equal(200, (await h2.GetAsync(3, "/machine/whoami")).Status);
    }

    [Fact]
    public async Task Get_answers_with_headers_and_data_ending_the_stream()
    {
        await using var h2 = await RawHttp2Connection.OpenAndSettleAsync(_server, Ct);

        var response = await h2.GetAsync(1, "/machine/whoami");

        Assert.Equal(200, response.Status);
        Assert.Null(response.Reset);
        Assert.StartsWith(h2.MachineKey + " 142 ", Encoding.UTF8.GetString(response.Body), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Huffman_strings_and_dynamic_table_entries_in_requests_are_decoded()
    {
        // Real clients index and Huffman-encode their headers. The Huffman strings are RFC 7541 Appendix C.4's
        // "www.example.com" and "no-cache"; :path stays a plain literal so the requests reach an endpoint.
        byte[] path = [0x04, 15, .. "/machine/whoami"u8];
        byte[] authorityIndexed = [0x41, 0x8c, 0xf1, 0xe3, 0xc2, 0xe5, 0xf2, 0x3a, 0x6b, 0xa0, 0xab, 0x90, 0xf4, 0xff];
        byte[] cacheControlIndexed = [0x58, 0x86, 0xa8, 0xeb, 0x10, 0x64, 0x9c, 0xbf];
        await using var h2 = await RawHttp2Connection.OpenAndSettleAsync(_server, Ct);

        // GET (static 2), http (static 6), then :authority added to the dynamic table as entry 62.
        var first = await RawRequestAsync(h2, 1, [0x82, 0x86, .. authorityIndexed, .. path]);
        // :authority from entry 62, then cache-control added: it becomes 62 and :authority moves to 63.
        var second = await RawRequestAsync(h2, 3, [0x82, 0x86, 0xbe, .. path, .. cacheControlIndexed]);
        // Entries swapped by mistake would put a regular field before :path, which is malformed (§8.3).
        var third = await RawRequestAsync(h2, 5, [0x82, 0x86, 0xbf, .. path, 0xbe]);

        Assert.Equal([200, 200, 200], [first.Status, second.Status, third.Status]);
        Assert.StartsWith(h2.MachineKey.ToString(), Encoding.UTF8.GetString(third.Body), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Header_block_split_over_continuation_frames_is_joined()
    {
        await using var h2 = await RawHttp2Connection.OpenAndSettleAsync(_server, Ct);
        var block = RequestBlock();

        await h2.WriteAsync([
            .. Frame(Http2FrameType.Headers, Http2Flags.EndStream, 1, block.AsSpan(0, 5)),
            .. Frame(Http2FrameType.Continuation, 0, 1, block.AsSpan(5, 10)),
            .. Frame(Http2FrameType.Continuation, Http2Flags.EndHeaders, 1, block.AsSpan(15)),
        ]);

        Assert.Equal(200, (await h2.ReadResponseAsync(1)).Status);
    }

    [Fact]
    public async Task Padding_on_headers_and_data_is_stripped()
    {
        await using var h2 = await RawHttp2Connection.OpenAndSettleAsync(_server, Ct);

        await h2.WriteFrameAsync(Http2FrameType.Headers, Http2Flags.EndHeaders | Http2Flags.Padded, 1, [3, .. RequestBlock("POST", "/machine/upload"), 0, 0, 0]);
        await h2.WriteFrameAsync(Http2FrameType.Data, Http2Flags.Padded, 1, [2, .. "12345"u8, 0, 0]);
        await h2.WriteFrameAsync(Http2FrameType.Data, Http2Flags.Padded | Http2Flags.EndStream, 1, [0, .. "67890"u8]);
        var response = await h2.ReadResponseAsync(1);

        Assert.Equal(200, response.Status);
        Assert.Equal("10", Encoding.ASCII.GetString(response.Body));
    }

    [Fact]
    public async Task Large_response_comes_in_frames_within_the_default_max_frame_size_as_windows_widen()
    {
        // Larger than both initial windows (65,535), so it completes only if the server honours WINDOW_UPDATEs.
        const int size = 300_000;
        await using var h2 = await RawHttp2Connection.OpenAndSettleAsync(_server, Ct);
        await h2.WriteRequestAsync(1, "GET", $"/machine/big?size={size}", endStream: true);

        var response = await h2.ReadResponseAsync(1, widenWindows: true);

        Assert.Equal(200, response.Status);
        Assert.Equal(Enumerable.Range(0, size).Select(Ts2021TestServer.Pattern), response.Body);
        Assert.True(h2.LargestFrameReceived <= RawHttp2Connection.DefaultMaxFrameSize, $"a frame of {h2.LargestFrameReceived} bytes");
    }

    [Fact]
    public async Task Priority_signals_are_parsed_and_otherwise_ignored()
    {
        await using var h2 = await RawHttp2Connection.OpenAndSettleAsync(_server, Ct);
        byte[] dependsOnStream0 = [0, 0, 0, 0, 15];

        await h2.WriteFrameAsync(Http2FrameType.Priority, 0, 3, dependsOnStream0);
        await h2.WriteFrameAsync(Http2FrameType.Headers, Http2Flags.EndHeaders | Http2Flags.EndStream | Http2Flags.Priority, 1, [.. dependsOnStream0, .. RequestBlock()]);

        Assert.Equal(200, (await h2.ReadResponseAsync(1)).Status);
        Assert.Equal(200, (await h2.GetAsync(3, "/machine/whoami")).Status);
    }

    [Fact]
    public async Task Priority_frame_of_length_4_is_a_frame_size_error()
    {
        await using var h2 = await RawHttp2Connection.OpenAndSettleAsync(_server, Ct);

        await h2.WriteFrameAsync(Http2FrameType.Priority, 0, 1, new byte[4]);

        // §6.3 names a stream error; §5.4 lets the server make it a connection error.
        await AssertStreamOrConnectionErrorAsync(h2, 1, Http2ErrorCode.FrameSizeError);
    }

    [Fact]
    public async Task Get_of_an_unknown_inner_path_is_404()
    {
        await using var h2 = await RawHttp2Connection.OpenAndSettleAsync(_server, Ct);

        var response = await h2.GetAsync(1, "/machine/no-such-endpoint");

        Assert.Equal(404, response.Status);
        Assert.Null(response.Reset);
    }

    [Fact]
    public async Task Request_body_over_one_mebibyte_is_413_and_the_connection_stays_usable()
    {
        await using var h2 = await RawHttp2Connection.OpenAndSettleAsync(_server, Ct);
        await h2.WriteRequestAsync(1, "POST", "/machine/upload", endStream: false);

        var answer = await h2.WriteBodyWithinWindowsAsync(1, (1024 * 1024) + 1, endStream: true);
        var status = answer is { Type: Http2FrameType.Headers }
            ? RawHttp2Connection.DecodeStatus(answer.Content)
            : answer is null ? (await h2.ReadResponseAsync(1)).Status : null;

        Assert.True(status == 413, $"expected 413, got {(object?)answer ?? status}");
        Assert.Equal(200, (await h2.GetAsync(3, "/machine/whoami")).Status);
    }

    [Fact]
    public async Task Unknown_frame_type_is_ignored()
    {
        await using var h2 = await RawHttp2Connection.OpenAndSettleAsync(_server, Ct);

        await h2.WriteAsync(Frame(UnknownFrameType, 0xff, 0, "ignore me"u8));
        await h2.WriteAsync(Frame(UnknownFrameType, 0, 7, "and me"u8));
        var before = await h2.RoundTripPingAsync();

        Assert.DoesNotContain(before, f => f.Type is Http2FrameType.GoAway or Http2FrameType.RstStream);
        Assert.Equal(200, (await h2.GetAsync(1, "/machine/whoami")).Status);
    }

    [Fact]
    public async Task Data_after_the_client_ended_the_stream_is_stream_closed()
    {
        await using var h2 = await RawHttp2Connection.OpenAndSettleAsync(_server, Ct);
        await h2.WriteRequestAsync(1, "GET", "/machine/whoami", endStream: true);

        await h2.WriteFrameAsync(Http2FrameType.Data, 0, 1, "late"u8);

        // §5.1 half-closed (remote): a stream error; Kestrel makes it a connection error, which §5.4 allows.
        await AssertStreamOrConnectionErrorAsync(h2, 1, Http2ErrorCode.StreamClosed);
    }

    [Fact]
    public async Task Window_update_of_zero_on_a_stream_is_a_protocol_error()
    {
        await using var h2 = await RawHttp2Connection.OpenAndSettleAsync(_server, Ct);
        await h2.WriteRequestAsync(1, "GET", "/machine/trickle", endStream: true);

        await h2.WriteWindowUpdateAsync(1, 0);

        await AssertStreamOrConnectionErrorAsync(h2, 1, Http2ErrorCode.ProtocolError);
    }

    [Fact]
    public async Task Stream_window_past_two_to_the_31_is_a_flow_control_error()
    {
        await using var h2 = await RawHttp2Connection.OpenAndSettleAsync(_server, Ct);
        await h2.WriteRequestAsync(1, "GET", "/machine/trickle", endStream: true);

        await h2.WriteWindowUpdateAsync(1, int.MaxValue);

        await AssertStreamOrConnectionErrorAsync(h2, 1, Http2ErrorCode.FlowControlError);
    }

    [Fact]
    public async Task Data_beyond_the_servers_stream_window_is_a_flow_control_error()
    {
        await using var h2 = await RawHttp2Connection.OpenAndSettleAsync(_server, Ct);
        // The trickle endpoint never reads its request body, so the server has no reason to widen the window.
        await h2.WriteRequestAsync(1, "GET", "/machine/trickle", endStream: false);
        var frames = new List<byte>();
        var chunk = new byte[RawHttp2Connection.DefaultMaxFrameSize];
        for (var left = (long)h2.InitialSendWindow + 1; left > 0; left -= chunk.Length)
        {
            frames.AddRange(RawHttp2Connection.Frame(Http2FrameType.Data, 0, 1, chunk.AsSpan(0, (int)Math.Min(left, chunk.Length))));
        }

        await h2.WriteAsync([.. frames]);

        await AssertStreamOrConnectionErrorAsync(h2, 1, Http2ErrorCode.FlowControlError);
    }

    [Fact]
    public async Task Client_reset_of_an_open_stream_leaves_the_connection_usable()
    {
        await using var h2 = await RawHttp2Connection.OpenAndSettleAsync(_server, Ct);
        await h2.WriteRequestAsync(1, "POST", "/machine/upload", endStream: false);
        await h2.WriteFrameAsync(Http2FrameType.Data, 0, 1, new byte[10]);

        await h2.WriteRstStreamAsync(1, Http2ErrorCode.Cancel);

        Assert.Equal(200, (await h2.GetAsync(3, "/machine/whoami")).Status);
    }

    [Fact]
    public async Task Response_body_waits_for_the_clients_stream_window()
    {
        const int window = 100;
        const int size = 1000;
        await using var h2 = await RawHttp2Connection.OpenAndSettleAsync(_server, Ct, (Http2SettingId.InitialWindowSize, window));
        await h2.WriteRequestAsync(1, "GET", $"/machine/big?size={size}", endStream: true);

        var body = await ReadDataAsync(h2, 1, window);
        // Anything the server sent past the window would come before the answer to a PING written after the window filled.
        var afterFull = await h2.RoundTripPingAsync();
        Assert.DoesNotContain(afterFull, f => f.Type == Http2FrameType.Data && f.StreamId == 1 && f.Payload.Length > 0);

        await h2.WriteWindowUpdateAsync(1, size - window);
        body.AddRange(await ReadDataAsync(h2, 1, size - window));

        Assert.Equal(Enumerable.Range(0, size).Select(Ts2021TestServer.Pattern), body);
    }

    [Fact]
    public async Task Streams_beyond_the_servers_max_concurrent_streams_are_refused()
    {
        await using var h2 = await RawHttp2Connection.OpenAndSettleAsync(_server, Ct);
        Assert.True(h2.ServerSettings.TryGetValue(Http2SettingId.MaxConcurrentStreams, out var max), "the server announces no SETTINGS_MAX_CONCURRENT_STREAMS");

        // Uploads whose body never ends keep their streams open.
        var open = new List<byte>();
        for (var i = 0; i < max; i++)
        {
            open.AddRange(Request((2 * i) + 1, "POST", "/machine/upload", endStream: false));
        }

        await h2.WriteAsync([.. open]);
        var excess = (2 * (int)max) + 1;
        await h2.WriteRequestAsync(excess, "GET", "/machine/whoami", endStream: true);
        var refused = await h2.ReadResponseAsync(excess);

        Assert.Null(refused.Status);
        Assert.True(
            refused.Reset is Http2ErrorCode.RefusedStream or Http2ErrorCode.ProtocolError,
            $"expected RST_STREAM REFUSED_STREAM or PROTOCOL_ERROR, got {refused.Reset}");
        await h2.RoundTripPingAsync();
    }

    /// <summary>
    /// Where the RFC names a stream error, §5.4 still lets the server end the connection: either RST_STREAM with the
    /// code on the stream, after which the connection must keep serving, or GOAWAY with the code and a close.
    /// </summary>
    private static async Task AssertStreamOrConnectionErrorAsync(RawHttp2Connection h2, int streamId, Http2ErrorCode code)
    {
        var (error, _) = await h2.ReadUntilAsync(f => f.Type == Http2FrameType.GoAway || (f.Type == Http2FrameType.RstStream && f.StreamId == streamId));
        Assert.Equal(code, error.ErrorCode);
        if (error.Type == Http2FrameType.GoAway)
        {
            await h2.AssertClosedAsync(code);
        }
        else
        {
            Assert.Equal(200, (await h2.GetAsync(streamId + 2, "/machine/whoami")).Status);
        }
    }

    /// <summary>Reads DATA on the stream until <paramref name="count"/> bytes came, failing if any frame would overrun that.</summary>
    private static async Task<List<byte>> ReadDataAsync(RawHttp2Connection h2, int streamId, int count)
    {
        var received = new List<byte>();
        while (received.Count < count)
        {
            var (frame, _) = await h2.ReadUntilAsync(f => f.StreamId == streamId && f.Type is Http2FrameType.Data or Http2FrameType.RstStream);
            Assert.Equal(Http2FrameType.Data, frame.Type);
            Assert.True(received.Count + frame.Payload.Length <= count, $"DATA of {frame.Payload.Length} bytes after {received.Count} overruns the window of {count}");
            received.AddRange(frame.Content);
        }

        return received;
    }

    private static async Task<Http2Response> RawRequestAsync(RawHttp2Connection h2, int streamId, byte[] block)
    {
        await h2.WriteFrameAsync(Http2FrameType.Headers, Http2Flags.EndHeaders | Http2Flags.EndStream, streamId, block);
        return await h2.ReadResponseAsync(streamId);
    }

    private static byte[] Frame(Http2FrameType type, byte flags, int streamId, ReadOnlySpan<byte> payload) =>
        RawHttp2Connection.Frame(type, flags, streamId, payload);

    private static byte[] RequestBlock(string method = "GET", string path = "/machine/whoami") =>
        RawHttp2Connection.EncodeHeaders((":method", method), (":scheme", "http"), (":authority", "test"), (":path", path));

    private static byte[] Request(int streamId, string method = "GET", string path = "/machine/whoami", bool endStream = true) =>
        Frame(Http2FrameType.Headers, (byte)(Http2Flags.EndHeaders | (endStream ? Http2Flags.EndStream : 0)), streamId, RequestBlock(method, path));

    private static byte[] Settings(Http2SettingId id, uint value)
    {
        var payload = new byte[6];
        BinaryPrimitives.WriteUInt16BigEndian(payload, (ushort)id);
        BinaryPrimitives.WriteUInt32BigEndian(payload.AsSpan(2), value);
        return Frame(Http2FrameType.Settings, 0, 0, payload);
    }

    private static byte[] WindowUpdate(int streamId, int increment)
    {
        var payload = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(payload, increment);
        return Frame(Http2FrameType.WindowUpdate, 0, streamId, payload);
    }
}
