using System.Net;
using System.Text;
using Headscale.Derp.Map;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Headscale.Derp.Tests;

/// <summary><c>derp.urls</c> against a real local HTTP server: fetch, periodic refresh, and keeping the last good map.</summary>
public sealed class DerpMapUrlTests : IAsyncLifetime
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;
    private WebApplication _app = null!;
    private volatile string _body = MapJson(1, "first");
    private volatile int _status = 200;
    private int _requests;

    private string Url { get; set; } = "";

    private static string MapJson(int regionId, string code) =>
        "{\"Regions\":{\"" + regionId + "\":{\"RegionID\":" + regionId + ",\"RegionCode\":\"" + code + "\",\"RegionName\":\"" + code
        + "\",\"Nodes\":[{\"Name\":\"" + regionId + "a\",\"RegionID\":" + regionId + ",\"HostName\":\"" + code + ".example.net\"}]}}}";

    public async ValueTask InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0));
        builder.Logging.ClearProviders();
        _app = builder.Build();
        _app.MapGet("/derpmap", (HttpContext context) =>
        {
            Interlocked.Increment(ref _requests);
            context.Response.StatusCode = _status;
            context.Response.ContentType = "application/json";
            return context.Response.WriteAsync(_body);
        });
        await _app.StartAsync(Ct);
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        Url = address.TrimEnd('/') + "/derpmap";
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }

    /// <summary>Waits for the refresh that started after this call to finish: refreshes are sequential, so two more requests.</summary>
    private async Task AwaitOneFullRefreshAsync()
    {
        var seen = Volatile.Read(ref _requests);
        await TestWait.UntilAsync(() => Volatile.Read(ref _requests) >= seen + 2, "one more refresh completed");
    }

    [Fact]
    public async Task A_url_map_is_fetched_at_start_and_merged_with_the_embedded_region()
    {
        var provider = new DerpMapProvider(new DerpMapOptions { Urls = [Url], EmbeddedRegion = DerpMapTests.Embedded() });
        await provider.StartAsync(Ct);
        try
        {
            Assert.Equal([1, 999], provider.Current.Regions!.Keys.Order());
            Assert.Equal("first", provider.Current.Regions[1]!.RegionCode);
        }
        finally
        {
            await provider.StopAsync(Ct);
        }
    }

    [Fact]
    public async Task The_map_is_refetched_every_update_frequency_and_a_failed_fetch_keeps_the_last_good_map()
    {
        var provider = new DerpMapProvider(new DerpMapOptions { Urls = [Url], UpdateFrequency = TimeSpan.FromMilliseconds(50) });
        var changes = 0;
        provider.Changed += _ => Interlocked.Increment(ref changes);
        await provider.StartAsync(Ct);
        try
        {
            Assert.Equal([1], provider.Current.Regions!.Keys);

            _body = MapJson(2, "second");
            await TestWait.UntilAsync(() => provider.Current.Regions!.ContainsKey(2), "the refreshed map is published");
            Assert.Equal([2], provider.Current.Regions!.Keys);
            Assert.True(Volatile.Read(ref changes) >= 1);
            var good = provider.Current;

            _status = 500;
            await AwaitOneFullRefreshAsync();
            Assert.Same(good, provider.Current);

            _status = 200;
            _body = "{\"Regions\": not json";
            await AwaitOneFullRefreshAsync();
            Assert.Same(good, provider.Current);

            _body = MapJson(2, "second");
            var changesBefore = Volatile.Read(ref changes);
            await AwaitOneFullRefreshAsync();
            Assert.Same(good, provider.Current);
            Assert.Equal(changesBefore, Volatile.Read(ref changes));

            _body = MapJson(3, "third");
            await TestWait.UntilAsync(() => provider.Current.Regions!.ContainsKey(3), "the map recovers when the URL does");
        }
        finally
        {
            await provider.StopAsync(Ct);
        }
    }

    [Fact]
    public async Task An_unreachable_url_at_start_leaves_the_other_sources()
    {
        _status = 503;
        var provider = new DerpMapProvider(new DerpMapOptions { Urls = [Url], EmbeddedRegion = DerpMapTests.Embedded(), AutoUpdateEnabled = false });
        await provider.StartAsync(Ct);
        await provider.StopAsync(Ct);
        Assert.Equal([999], provider.Current.Regions!.Keys);
    }

    [Fact]
    public void A_body_that_is_not_a_map_object_is_rejected_naming_the_url()
    {
        var error = Assert.Throws<DerpMapException>(() => DerpMapLoader.ParseJson("[]"u8, Url));
        Assert.Contains(Url, error.Message);
    }
}
