using System.Buffers;
using System.Collections.Immutable;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Akka.Actor;
using Akka.Hosting;
using Headscale.Actors.NetworkMap;
using Headscale.Api.ControlPlane;
using Headscale.Protocol.Tailcfg;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Headscale.Api.Tests.ControlPlane;

/// <summary>
/// <c>/machine/map</c> over plain HTTP on a real Kestrel socket, with the machine key taken from a
/// test header instead of the Noise session and a directory of two known nodes.
/// </summary>
public sealed class MapEndpointTests : IAsyncLifetime
{
    private const string MachineHeader = "X-Test-Machine";
    private static readonly string MachineA = "mkey:" + new string('a', 64);
    private static readonly string NodeKey1 = "nodekey:" + new string('1', 64);
    private static readonly string NodeKey2 = "nodekey:" + new string('2', 64);

    private readonly FakeDirectory _directory = new();
    private WebApplication _app = null!;
    private HttpClient _http = null!;
    private IActorRef _map = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel(k => k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http1));
        builder.Services.AddSingleton<IMapNodeDirectory>(_directory);
        builder.Services.AddSingleton(new MapSessionOptions(8, () => TimeSpan.FromMinutes(5)));
        // The sessions' mailbox is defined by WithNetworkMap in the server; this host wires the map by hand.
        builder.Services.AddAkka("map-endpoint-test", b => b.AddHocon(Headscale.Actors.Dispatch.CompactMailboxes.Hocon, HoconAddMode.Prepend).WithActors((system, registry) =>
        {
            var settings = new MapSettings("tail.example.com", """{"Regions":{}}"""u8.ToArray(), new DnsConfig { Proxied = true }, true);
            registry.Register<NetworkMapRegistryKey>(system.ActorOf(Props.Create(() => new NetworkMapActor(settings, AllowAllPolicy.Instance, TimeProvider.System, TimeSpan.FromMilliseconds(100)))));
        }));
        _app = builder.Build();
        _app.MapMachineMap(c => c.Request.Headers[MachineHeader].FirstOrDefault());
        await _app.StartAsync(Ct);
        var port = new Uri(_app.Urls.First()).Port;
        _http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
        _map = await _app.Services.GetRequiredService<IRequiredActor<NetworkMapRegistryKey>>().GetAsync(Ct);
        _map.Tell(new NetworkMapCommands.NodeUpdated(View(1, NodeKey1)));
        _map.Tell(new NetworkMapCommands.NodeUpdated(View(2, NodeKey2)));
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _app.StopAsync(CancellationToken.None);
        await _app.DisposeAsync();
    }

    private static PeerView View(long id, string nodeKey) => new()
    {
        Id = id,
        UserId = 1,
        UserLogin = "alice",
        GivenName = $"n{id}",
        NodeKey = nodeKey,
        MachineKey = MachineA,
        Addresses = [$"100.64.0.{id}/32"],
    };

    private HttpRequestMessage Post(object body, string? machine = null, string? rawBody = null)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/machine/map")
        {
            Content = rawBody is null ? JsonContent.Create(body, options: new JsonSerializerOptions()) : new StringContent(rawBody, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add(MachineHeader, machine ?? MachineA);
        return request;
    }

    private static object StreamRequest(string nodeKey, string compress = "zstd") =>
        new { Version = 122, Compress = compress, KeepAlive = true, NodeKey = nodeKey, Stream = true, Hostinfo = new { Hostname = "n" } };

    private static async Task<JsonElement> ReadFrameAsync(Stream body, bool zstd)
    {
        var header = new byte[4];
        await body.ReadExactlyAsync(header, Ct);
        var length = BitConverter.ToInt32(header);
        var payload = new byte[length];
        await body.ReadExactlyAsync(payload, Ct);
        var sequence = new ReadOnlySequence<byte>(header.Concat(payload).ToArray());
        Assert.True(MapFrameCodec.TryReadFrame(ref sequence, zstd, out var json));
        return JsonDocument.Parse(json).RootElement;
    }

    [Theory]
    [InlineData("zstd")]
    [InlineData("")]
    public async Task Streaming_poll_sends_the_full_map_then_deltas_as_they_happen(string compress)
    {
        using var response = await _http.SendAsync(Post(StreamRequest(NodeKey1, compress)), HttpCompletionOption.ResponseHeadersRead, Ct);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        await using var body = await response.Content.ReadAsStreamAsync(Ct);

        var first = await ReadFrameAsync(body, compress == "zstd");
        Assert.Equal(1, first.GetProperty("Node").GetProperty("ID").GetInt64());
        Assert.Equal(2, first.GetProperty("Peers")[0].GetProperty("ID").GetInt64());

        _map.Tell(new NetworkMapCommands.NodeUpdated(View(3, "nodekey:" + new string('3', 64))));
        var delta = await ReadFrameAsync(body, compress == "zstd");
        Assert.Equal(3, delta.GetProperty("PeersChanged")[0].GetProperty("ID").GetInt64());
    }

    [Fact]
    public async Task Lite_update_stores_what_the_client_reports_and_answers_200()
    {
        var lite = new
        {
            Version = 122,
            NodeKey = NodeKey1,
            DiscoKey = "discokey:" + new string('d', 64),
            OmitPeers = true,
            Endpoints = new[] { "192.0.2.1:41641" },
            Hostinfo = new { Hostname = "laptop", NetInfo = new { PreferredDERP = 999 } },
        };

        using var response = await _http.SendAsync(Post(lite), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var report = Assert.Single(_directory.Reports);
        Assert.Equal((1L, "laptop", 999), (report.NodeId, report.Hostinfo!.Hostname, report.Hostinfo.PreferredDerp));
        Assert.Equal(["192.0.2.1:41641"], report.Endpoints);
    }

    [Fact]
    public async Task Closing_the_stream_ends_the_session()
    {
        using (var response = await _http.SendAsync(Post(StreamRequest(NodeKey2)), HttpCompletionOption.ResponseHeadersRead, Ct))
        {
            await using var body = await response.Content.ReadAsStreamAsync(Ct);
            await ReadFrameAsync(body, zstd: true);
            var during = await _map.Ask<NetworkMapCommands.MapStatistics>(NetworkMapCommands.GetStatistics.Instance, TimeSpan.FromSeconds(5), Ct);
            Assert.Equal(1, during.Sessions);
        }

        using var cts = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        cts.CancelAfter(TimeSpan.FromSeconds(15));
        while ((await _map.Ask<NetworkMapCommands.MapStatistics>(NetworkMapCommands.GetStatistics.Instance, TimeSpan.FromSeconds(5), cts.Token)).Sessions != 0)
        {
            await Task.Delay(50, cts.Token);
        }
    }

    public static TheoryData<string?, string, HttpStatusCode, string> BadRequests() => new()
    {
        { null, "{not json", HttpStatusCode.BadRequest, "not a valid MapRequest" },
        { null, "[1,2]", HttpStatusCode.BadRequest, "not a valid MapRequest" },
        { null, """{"Version":122,"NodeKey":"nodekey:xyz","Stream":true}""", HttpStatusCode.BadRequest, "NodeKey must be" },
        { null, $$"""{"Version":122,"NodeKey":"{{new string('1', 64)}}","Stream":true}""", HttpStatusCode.BadRequest, "NodeKey must be" },
        { null, $$"""{"Version":89,"NodeKey":"{{NodeKey1}}","Stream":true}""", HttpStatusCode.BadRequest, "unsupported client version" },
        { null, $$"""{"Version":122,"NodeKey":"{{NodeKey1}}","DiscoKey":"disco","Stream":true}""", HttpStatusCode.BadRequest, "DiscoKey must be" },
        { null, $$"""{"Version":122,"NodeKey":"{{NodeKey1}}","Hostinfo":[1],"Stream":true}""", HttpStatusCode.BadRequest, "Hostinfo must be a JSON object" },
        { null, $$"""{"Version":122,"NodeKey":"nodekey:{{new string('9', 64)}}","Stream":true}""", HttpStatusCode.NotFound, "node not found" },
        { "mkey:" + new string('b', 64), $$"""{"Version":122,"NodeKey":"{{NodeKey1}}","Stream":true}""", HttpStatusCode.NotFound, "node not found" },
        { "", $$"""{"Version":122,"NodeKey":"{{NodeKey1}}","Stream":true}""", HttpStatusCode.Unauthorized, "no authenticated machine key" },
        { null, new string(' ', MapEndpoint.MaxRequestBytes + 1), HttpStatusCode.BadRequest, "larger than" },
        { null, $$"""{"Version":122,"NodeKey":"{{NodeKey1}}","Stream":true} {"Version":122}""", HttpStatusCode.BadRequest, "not a valid MapRequest" },
        { null, $$"""{"Version":122,"NodeKey":"{{NodeKey1}}","Stream":true}{{new string(' ', 100_000)}}x""", HttpStatusCode.BadRequest, "not a valid MapRequest" },
    };

    [Fact]
    public async Task A_lite_update_larger_than_one_read_is_parsed_whole()
    {
        // Whitespace inside the object spreads it over many reads of the request body.
        var body = $$"""{"Version":122,"NodeKey":"{{NodeKey1}}",{{new string(' ', 200_000)}}"OmitPeers":true,"Endpoints":["192.0.2.7:41641"]}""";

        using var response = await _http.SendAsync(Post(new object(), rawBody: body), Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["192.0.2.7:41641"], Assert.Single(_directory.Reports).Endpoints);
    }

    [Theory]
    [MemberData(nameof(BadRequests))]
    public async Task Bad_requests_get_a_status_and_a_message_naming_the_problem(string? machine, string body, HttpStatusCode status, string message)
    {
        var request = Post(new object(), machine, body);
        if (machine == "")
        {
            request.Headers.Remove(MachineHeader);
        }

        using var response = await _http.SendAsync(request, Ct);

        Assert.Equal(status, response.StatusCode);
        Assert.Contains(message, await response.Content.ReadAsStringAsync(Ct));
        Assert.Empty(_directory.Reports);
    }

    private sealed class FakeDirectory : IMapNodeDirectory
    {
        public List<(long NodeId, HostinfoSummary? Hostinfo, ImmutableArray<string> Endpoints, string? DiscoKey)> Reports { get; } = [];

        public Task<long?> FindNodeAsync(string machineKey, string nodeKey, CancellationToken cancellationToken) =>
            Task.FromResult<long?>(machineKey != MachineA ? null : nodeKey == NodeKey1 ? 1 : nodeKey == NodeKey2 ? 2 : null);

        public Task ReportAsync(long nodeId, HostinfoSummary? hostinfo, ImmutableArray<string> endpoints, string? discoKey, CancellationToken cancellationToken)
        {
            lock (Reports)
            {
                Reports.Add((nodeId, hostinfo, endpoints, discoKey));
            }

            return Task.CompletedTask;
        }
    }
}
