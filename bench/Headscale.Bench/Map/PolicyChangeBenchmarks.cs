using BenchmarkDotNet.Attributes;
using Headscale.Actors.NetworkMap;
using Headscale.Policy;
using Headscale.Protocol.Tailcfg;

namespace Headscale.Bench.Map;

/// <summary>
/// The server side of B3 without the network: every node of a tailnet subscribed to the network map, then a policy
/// change from allow-all to <c>* → *:443</c>. Measured apart: the compile, and the map's pass that gives each viewer
/// its difference (peer set, packet filter, SSH policy) as messages ready to send.
/// <c>dotnet run -c Release --project bench/Headscale.Bench -- --filter '*PolicyChange*' --job short --inProcess</c>
/// </summary>
[MemoryDiagnoser]
public class PolicyChangeBenchmarks
{
    private static readonly DateTimeOffset Now = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);
    private static readonly MapSettings Settings = new("tail.example.com", """{"Regions":{}}"""u8.ToArray(), new DnsConfig { Proxied = true }, DisableLogTail: true);

    private PeerView[] _nodes = null!;
    private ParsedPolicy _policy = null!;
    private CompiledTailnetPolicy _compiled = null!;
    private NetworkMapState _map = null!;

    [Params(1_000, 5_000)]
    public int Nodes { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _nodes = [.. Enumerable.Range(1, Nodes).Select(Node)];
        var load = PolicyLoader.Load("""{"acls": [{"action": "accept", "src": ["*"], "dst": ["*:443"]}]}""");
        _policy = load.Policy ?? throw new InvalidOperationException(load.ErrorMessage);
        _compiled = CompiledTailnetPolicy.Compile(_policy, _nodes, "https://hs.example.com");
    }

    [IterationSetup(Target = nameof(ViewerPass))]
    public void SubscribeEveryone()
    {
        _map = new NetworkMapState(Settings, AllowAllPolicy.Instance);
        foreach (var node in _nodes)
        {
            _map.Upsert(node, Now);
        }

        foreach (var node in _nodes)
        {
            _map.Subscribe(node.Id, Now);
        }

        _map.Flush(Now);
    }

    [Benchmark(Description = "compile * -> *:443 over the tailnet")]
    public CompiledTailnetPolicy Compile() => CompiledTailnetPolicy.Compile(_policy, _nodes, "https://hs.example.com");

    [Benchmark(Description = "every viewer's difference, allow-all -> *:443")]
    public int ViewerPass() => _map.SetPolicy(_compiled, Now).Count;

    private static PeerView Node(int id) => new()
    {
        Id = id,
        UserId = 1 + (id % 50),
        UserLogin = $"user{id % 50}@example.com",
        GivenName = $"node{id}",
        NodeKey = "nodekey:" + id.ToString("x64", System.Globalization.CultureInfo.InvariantCulture),
        MachineKey = "mkey:" + id.ToString("x64", System.Globalization.CultureInfo.InvariantCulture),
        Addresses = [$"100.64.{id / 256}.{id % 256}/32", $"fd7a:115c:a1e0::{id:x}/128"],
        Hostinfo = System.Text.Encoding.UTF8.GetBytes($$"""{"Hostname":"node{{id}}","OS":"linux","IPNVersion":"1.86.2"}"""),
        Online = true,
        Created = Now,
    };
}
