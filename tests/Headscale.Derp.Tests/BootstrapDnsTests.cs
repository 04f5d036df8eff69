using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using Headscale.Derp.Hosting;
using Headscale.Derp.Map;
using Microsoft.Extensions.DependencyInjection;

namespace Headscale.Derp.Tests;

/// <summary><c>/bootstrap-dns</c>: the DERP map's host names with their addresses, never an open resolver (§6).</summary>
public sealed class BootstrapDnsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static readonly DerpMap Map = new()
    {
        Regions = new Dictionary<int, DerpRegion?>
        {
            [900] = new()
            {
                RegionID = 900,
                Nodes =
                [
                    new DerpNode { Name = "900a", RegionID = 900, HostName = "derp1.example.net" },
                    new DerpNode { Name = "900b", RegionID = 900, HostName = "broken.example.net" },
                    new DerpNode { Name = "900c", RegionID = 900, HostName = "198.51.100.9" },
                ],
            },
            [901] = null,
            [902] = new() { RegionID = 902, Nodes = [new DerpNode { Name = "902a", RegionID = 902, HostName = "DERP1.example.net" }] },
        },
    };

    private sealed class FakeResolver
    {
        public List<string> Asked { get; } = [];

        public Task<IPAddress[]> ResolveAsync(string name, CancellationToken cancellationToken)
        {
            lock (Asked) Asked.Add(name);
            return name == "derp1.example.net"
                ? Task.FromResult(new[] { IPAddress.Parse("192.0.2.1"), IPAddress.Parse("::ffff:192.0.2.1"), IPAddress.Parse("2001:db8::1") })
                : Task.FromException<IPAddress[]>(new SocketException((int)SocketError.HostNotFound));
        }
    }

    private static Task<DerpTestHost> StartAsync(FakeResolver resolver) =>
        DerpTestHost.StartAsync(0, null, null,
            services => services.AddSingleton(new DerpBootstrapDns(() => DerpBootstrapDns.HostNamesOf(Map), resolver.ResolveAsync)));

    [Fact]
    public async Task Answers_the_map_host_names_that_resolve_as_json_and_closes_the_connection()
    {
        var resolver = new FakeResolver();
        await using var host = await StartAsync(resolver);
        using var http = new HttpClient { BaseAddress = host.BaseUrl };

        using var response = await http.GetAsync("/bootstrap-dns?q=derp1.example.net", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.True(response.Headers.ConnectionClose);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        var entries = json.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(a => a.GetString() ?? "").ToArray());
        Assert.Equal(["derp1.example.net"], entries.Keys);
        Assert.Equal(["192.0.2.1", "2001:db8::1"], entries["derp1.example.net"]);
        Assert.Equal(["broken.example.net", "derp1.example.net"], resolver.Asked.Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task A_name_outside_the_map_is_never_looked_up_and_answers_are_cached()
    {
        var resolver = new FakeResolver();
        await using var host = await StartAsync(resolver);
        using var http = new HttpClient { BaseAddress = host.BaseUrl };

        var first = await http.GetStringAsync("/bootstrap-dns?q=victim.example.org", Ct);
        var second = await http.GetStringAsync("/bootstrap-dns", Ct);

        Assert.Equal(first, second);
        Assert.DoesNotContain("victim", first);
        Assert.DoesNotContain("victim.example.org", resolver.Asked);
        Assert.Equal(2, resolver.Asked.Count);
    }

    [Theory]
    [InlineData("/bootstrap-dns?q=bad%20name")]
    [InlineData("/bootstrap-dns?q=a&q=b")]
    [InlineData("/bootstrap-dns?q=")]
    public async Task A_malformed_query_is_refused(string path)
    {
        await using var host = await StartAsync(new FakeResolver());
        using var http = new HttpClient { BaseAddress = host.BaseUrl };

        using var response = await http.GetAsync(path, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("q must be", await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task A_name_longer_than_dns_allows_is_refused_and_post_is_not_allowed()
    {
        await using var host = await StartAsync(new FakeResolver());
        using var http = new HttpClient { BaseAddress = host.BaseUrl };

        using var tooLong = await http.GetAsync("/bootstrap-dns?q=" + new string('a', 254), Ct);
        using var post = await http.PostAsync("/bootstrap-dns", new StringContent(""), Ct);

        Assert.Equal(HttpStatusCode.BadRequest, tooLong.StatusCode);
        Assert.Equal(HttpStatusCode.MethodNotAllowed, post.StatusCode);
    }

    [Fact]
    public async Task Without_a_derp_map_the_answer_is_an_empty_object()
    {
        await using var host = await DerpTestHost.StartAsync();
        using var http = new HttpClient { BaseAddress = host.BaseUrl };

        Assert.Equal("{}", await http.GetStringAsync("/bootstrap-dns", Ct));
    }

    [Fact]
    public async Task The_system_resolver_answers_for_a_real_name()
    {
        var dns = new DerpBootstrapDns(() => ["localhost"]);

        using var json = JsonDocument.Parse(await dns.AnswerAsync(Ct));

        var addresses = json.RootElement.GetProperty("localhost").EnumerateArray().Select(a => IPAddress.Parse(a.GetString()!)).ToArray();
        Assert.Contains(addresses, IPAddress.IsLoopback);
    }
}
