using Headscale.Protocol.Http2;

namespace Headscale.Api.Tests.ControlProtocol;

/// <summary>The inner HTTP/2 server closes connections that carry no request for its idle timeout, and only those.</summary>
public sealed class InnerHttp2IdleTimeoutTests : IAsyncLifetime
{
    private static readonly TimeSpan IdleTimeout = TimeSpan.FromMilliseconds(400);

    private Ts2021TestServer _server = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _server = await Ts2021TestServer.StartAsync(idleTimeout: IdleTimeout);

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task A_connection_without_requests_after_its_last_response_gets_goaway_and_is_closed()
    {
        await using var h2 = await RawHttp2Connection.OpenAndSettleAsync(_server, Ct);
        Assert.Equal(200, (await h2.GetAsync(1, "/machine/whoami")).Status);

        var (goAway, _) = await h2.ReadUntilAsync(f => f.Type == Http2FrameType.GoAway);

        Assert.Equal(Http2ErrorCode.NoError, goAway.ErrorCode);
        await h2.AssertClosedAsync();
    }

    [Fact]
    public async Task A_connection_with_an_open_long_poll_is_not_idle()
    {
        await using var polling = await RawHttp2Connection.OpenAndSettleAsync(_server, Ct);
        await polling.WriteRequestAsync(1, "GET", "/machine/trickle", endStream: true);
        var (head, _) = await polling.ReadUntilAsync(f => f.StreamId == 1 && f.Type == Http2FrameType.Headers);
        Assert.Equal(200, RawHttp2Connection.DecodeStatus(head.Content));

        // A connection opened after the long poll started is closed once the idle timeout has passed for both.
        await using var idle = await RawHttp2Connection.OpenAndSettleAsync(_server, Ct);
        await idle.ReadUntilAsync(f => f.Type == Http2FrameType.GoAway);

        await _server.TricklePieces.Writer.WriteAsync("still here", Ct);
        var (data, before) = await polling.ReadUntilAsync(f => f.StreamId == 1 && f.Type == Http2FrameType.Data);
        Assert.Equal("still here", System.Text.Encoding.UTF8.GetString(data.Content));
        Assert.DoesNotContain(before, f => f.Type == Http2FrameType.GoAway);
        Assert.DoesNotContain(await polling.RoundTripPingAsync(), f => f.Type == Http2FrameType.GoAway);
    }
}
