using Headscale.Protocol.Http2;

namespace Headscale.Api.Tests.ControlProtocol;

/// <summary>
/// Behaviour of the server's own inner HTTP/2 beyond the RFC's error codes: what it answers by itself, how it treats
/// frames still in flight after that, and what a stopping host does to open long polls.
/// </summary>
public sealed class InnerHttp2ServerTests : IAsyncLifetime
{
    private Ts2021TestServer _server = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _server = await Ts2021TestServer.StartAsync();

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Stopping_the_host_sends_goaway_and_ends_open_long_polls_at_once()
    {
        await using var h2 = await RawHttp2Connection.OpenAndSettleAsync(_server, Ct);
        await h2.WriteRequestAsync(1, "GET", "/machine/trickle", endStream: true);
        var (head, _) = await h2.ReadUntilAsync(f => f.StreamId == 1 && f.Type == Http2FrameType.Headers);
        Assert.Equal(200, RawHttp2Connection.DecodeStatus(head.Content));

        // The trickle endpoint never ends by itself: only the stop can end it, and the host's shutdown
        // timeout (far longer than the read deadline) would be the only other way out.
        var stopping = _server.StopAsync();
        var (goAway, _) = await h2.ReadUntilAsync(f => f.Type == Http2FrameType.GoAway);
        Assert.Equal(Http2ErrorCode.NoError, goAway.ErrorCode);
        await h2.AssertClosedAsync();
        await stopping.WaitAsync(TimeSpan.FromSeconds(15), Ct);
    }

    [Fact]
    public async Task A_declared_content_length_over_the_limit_is_answered_413_before_any_data_and_the_stream_reset()
    {
        await using var h2 = await RawHttp2Connection.OpenAndSettleAsync(_server, Ct);

        await h2.WriteRequestAsync(1, "POST", "/machine/upload", endStream: false, ("content-length", (2 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        var response = await h2.ReadResponseAsync(1);
        var (reset, _) = await h2.ReadUntilAsync(f => f.StreamId == 1 && f.Type == Http2FrameType.RstStream);

        Assert.Equal(413, response.Status);
        Assert.Contains("request body is larger than 1048576 bytes", System.Text.Encoding.UTF8.GetString(response.Body), StringComparison.Ordinal);
        Assert.Equal(Http2ErrorCode.NoError, reset.ErrorCode);
        Assert.Equal(200, (await h2.GetAsync(3, "/machine/whoami")).Status);
    }

    [Fact]
    public async Task Data_the_client_sent_before_it_saw_the_servers_reset_is_ignored()
    {
        await using var h2 = await RawHttp2Connection.OpenAndSettleAsync(_server, Ct);
        await h2.WriteRequestAsync(1, "POST", "/machine/upload", endStream: false, ("content-length", (2 * 1024 * 1024).ToString(System.Globalization.CultureInfo.InvariantCulture)));
        await h2.ReadUntilAsync(f => f.StreamId == 1 && f.Type == Http2FrameType.RstStream);

        await h2.WriteFrameAsync(Http2FrameType.Data, Http2Flags.EndStream, 1, new byte[100]);
        var before = await h2.RoundTripPingAsync();

        Assert.DoesNotContain(before, f => f.Type is Http2FrameType.RstStream or Http2FrameType.GoAway);
    }

    [Fact]
    public async Task A_body_shorter_than_its_content_length_resets_the_stream_and_the_connection_goes_on()
    {
        await using var h2 = await RawHttp2Connection.OpenAndSettleAsync(_server, Ct);

        await h2.WriteRequestAsync(1, "POST", "/machine/upload", endStream: false, ("content-length", "10"));
        await h2.WriteFrameAsync(Http2FrameType.Data, Http2Flags.EndStream, 1, new byte[5]);
        var response = await h2.ReadResponseAsync(1);

        Assert.Equal(Http2ErrorCode.ProtocolError, response.Reset);
        Assert.Null(response.Status);
        Assert.Equal(200, (await h2.GetAsync(3, "/machine/whoami")).Status);
    }
}
