using Headscale.Api.ControlProtocol.InnerHttp2;

namespace Headscale.Api.Tests.ControlProtocol;

public sealed class RequestHeadCollectorTests
{
    private static RequestHeadCollector Collect(string path, string contentType)
    {
        var head = new RequestHeadCollector();
        head.Begin(trailers: false);
        head.OnHeader(":method"u8, "POST"u8);
        head.OnHeader(":scheme"u8, "http"u8);
        head.OnHeader(":authority"u8, "control.example.com"u8);
        head.OnHeader(":path"u8, System.Text.Encoding.ASCII.GetBytes(path));
        head.OnHeader("content-type"u8, System.Text.Encoding.ASCII.GetBytes(contentType));
        return head;
    }

    [Fact]
    public void The_texts_every_client_sends_are_one_shared_string_across_requests()
    {
        var first = Collect("/machine/map", "application/json");
        var second = Collect("/machine/map", "application/json");

        Assert.Null(first.Error);
        Assert.Same(first.Method, second.Method);
        Assert.Same(first.Scheme, second.Scheme);
        Assert.Same(first.Path, second.Path);
        Assert.Same(first.Headers!.Keys.Single(), second.Headers!.Keys.Single());
        Assert.Same(first.Headers["content-type"].ToString(), second.Headers["content-type"].ToString());
        Assert.Equal("/machine/map", first.Path);
    }

    [Fact]
    public void Other_texts_are_read_as_sent()
    {
        var first = Collect("/machine/mapx", "text/plain");
        var second = Collect("/machine/mapx", "text/plain");

        Assert.Equal("/machine/mapx", first.Path);
        Assert.Equal("text/plain", first.Headers!["content-type"].ToString());
        Assert.NotSame(first.Path, second.Path);
        Assert.Equal("control.example.com", first.Authority);
    }
}
