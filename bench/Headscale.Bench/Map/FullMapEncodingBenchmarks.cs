using System.Buffers;
using System.Collections.Immutable;
using System.Text;
using BenchmarkDotNet.Attributes;
using Headscale.Protocol.Tailcfg;

namespace Headscale.Bench.Map;

/// <summary>
/// B8: one viewer's full map, encoded as the session did before (the whole JSON through zstd, peer JSON already
/// cached per entry) and assembled from shared compressed chunks (<see cref="MapFrameCodec.EncodeFullMap"/>): with
/// the chunks warm (every viewer after the first) and cold (the first viewer after every peer changed). The viewers
/// rotate over eight ids in different groups, so each pays for its own group and its own tail as a real one does.
/// Peer entries carry a headscale-style full Hostinfo and per-node random keys (≈1.3 KB of JSON each).
/// <c>dotnet run -c Release --project bench/Headscale.Bench -- --filter '*FullMapEncoding*' --job short --inProcess</c>
/// </summary>
[MemoryDiagnoser]
public class FullMapEncodingBenchmarks
{
    private const int Viewers = 8;

    private MapResponse[] _maps = null!;
    private PeerChunkCache _warm = null!;
    private readonly ArrayBufferWriter<byte> _stream = new();
    private int _next;

    [Params(1_000, 10_000)]
    public int Peers { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(8);
        var nodes = Enumerable.Range(1, Peers + 1).Select(id => PeerEntry(id, random)).ToArray();
        _maps = new MapResponse[Viewers];
        for (var v = 0; v < Viewers; v++)
        {
            var self = nodes[(int)((long)v * Peers / Viewers)];
            _maps[v] = FullMap(self, nodes.Where(n => n.Id != self.Id).ToImmutableArray());
        }

        _warm = new PeerChunkCache();
        var naive = MapFrameCodec.Encode(_maps[0], zstd: true);
        var assembled = MapFrameCodec.EncodeFullMap(_maps[0], zstd: true, _warm);
        var json = MapResponseJson.ToUtf8(_maps[0]).Length;
        Console.WriteLine($"// B8 sizes, {Peers} peers: JSON {json:N0} B ({json / Peers:N0} B/peer); one zstd frame {naive.Length:N0} B "
            + $"({(double)naive.Length / Peers:N1} B/peer); assembled {assembled.Length:N0} B ({(double)assembled.Length / Peers:N1} B/peer, "
            + $"{100.0 * (assembled.Length - naive.Length) / naive.Length:+0.0;-0.0}%)");
        for (var v = 1; v < Viewers; v++)
        {
            MapFrameCodec.EncodeFullMap(_maps[v], zstd: true, _warm);
        }
    }

    [Benchmark(Baseline = true, Description = "naive: whole map through zstd per viewer")]
    public int Naive() => MapFrameCodec.Encode(NextMap(), zstd: true).Length;

    // The assembled frames are written out as the map endpoint does (into a reused buffer standing in for the stream's),
    // so the copy of the pieces is counted; the naive frame is one array already.
    [Benchmark(Description = "assembled from cached chunks (warm)")]
    public int Assembled() => WriteOut(MapFrameCodec.EncodeFullMap(NextMap(), zstd: true, _warm));

    [Benchmark(Description = "assembled, every chunk compressed (cold)")]
    public int AssembledCold() => WriteOut(MapFrameCodec.EncodeFullMap(NextMap(), zstd: true, new PeerChunkCache()));

    private int WriteOut(MapFrame frame)
    {
        _stream.ResetWrittenCount();
        frame.WriteTo(_stream);
        return _stream.WrittenCount;
    }

    private MapResponse NextMap() => _maps[_next++ % Viewers];

    private static MapResponse FullMap(MapNode self, ImmutableArray<MapNode> peers) => new()
    {
        ControlTime = DateTimeOffset.UnixEpoch.AddYears(56),
        Node = self with { Online = null },
        DerpMapRaw = """{"Regions":{"999":{"RegionID":999,"RegionCode":"headscale","RegionName":"Headscale Embedded DERP","Nodes":[{"Name":"999a","RegionID":999,"HostName":"derp.example.com","IPv4":"203.0.113.1","IPv6":"2001:db8::1","STUNPort":3478,"DERPPort":443}]}}}"""u8.ToArray(),
        Peers = peers,
        DnsConfig = new DnsConfig { Domains = ["tail.example.com"], Proxied = true },
        Domain = "tail.example.com",
        CollectServices = false,
        PacketFilterRaw = """[{"SrcIPs":["*"],"DstPorts":[{"IP":"*","Ports":{"First":0,"Last":65535}}]}]"""u8.ToArray(),
        SshPolicyRaw = """{"rules":[]}"""u8.ToArray(),
        UserProfiles = [.. Enumerable.Range(1, 50).Select(u => new UserProfile(u, $"user{u}@example.com", $"user{u}@example.com"))],
        DisableLogTail = true,
    };

    private static MapNode PeerEntry(int id, Random random)
    {
        string Hex(int bytes)
        {
            var buffer = new byte[bytes];
            random.NextBytes(buffer);
            return Convert.ToHexStringLower(buffer);
        }

        var v4 = $"100.64.{id >> 8}.{id & 0xff}";
        var hostname = $"host-{id}";
        var hostinfo = $$"""
            {"IPNVersion":"1.86.2-t1234abcd-g5678ef01","FrontendLogID":"{{Hex(32)}}","BackendLogID":"{{Hex(32)}}","OS":"linux","OSVersion":"Debian 12.8 (bookworm); kernel=6.1.0-28-amd64","Distro":"debian","DistroVersion":"12.8","DistroCodeName":"bookworm","Desktop":false,"Package":"tailscaled","Hostname":"{{hostname}}","Machine":"x86_64","GoArch":"amd64","GoArchVar":"v1","GoVersion":"go1.25.1","Userspace":false,"UserspaceRouter":false,"AppConnector":false,"NetInfo":{"MappingVariesByDestIP":false,"HairPinning":false,"WorkingIPv6":true,"OSHasIPv6":true,"WorkingUDP":true,"WorkingICMPv4":true,"UPnP":false,"PMP":false,"PCP":false,"PreferredDERP":999,"DERPLatency":{"999-v4":0.0{{random.Next(1_000, 9_999)}},"999-v6":0.0{{random.Next(1_000, 9_999)}}},"FirewallMode":"nft-default"},"Services":[{"Proto":"tcp","Port":22,"Description":"sshd"},{"Proto":"peerapi4","Port":{{random.Next(20_000, 60_000)}}},{"Proto":"peerapi6","Port":{{random.Next(20_000, 60_000)}}}],"Cloud":"aws","SSH_HostKeys":["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA{{Hex(24)}}"]}
            """;
        return new MapNode
        {
            Id = id,
            Name = $"{hostname}.tail.example.com.",
            User = 1 + id % 50,
            Key = "nodekey:" + Hex(32),
            KeyExpiry = DateTimeOffset.UnixEpoch.AddYears(57).AddSeconds(random.Next()),
            Machine = "mkey:" + Hex(32),
            DiscoKey = "discokey:" + Hex(32),
            Addresses = [$"{v4}/32", $"fd7a:115c:a1e0::{id:x}/128"],
            Endpoints = [$"198.51.{random.Next(256)}.{random.Next(256)}:41641", $"{v4.Replace("100.64", "10.1", StringComparison.Ordinal)}:41641", "[2001:db8::5]:41641"],
            HomeDerp = 999,
            Hostinfo = Encoding.UTF8.GetBytes(hostinfo),
            Created = DateTimeOffset.UnixEpoch.AddYears(56).AddSeconds(id * 37),
            Tags = id % 10 < 3 ? [$"tag:t{id % 7}"] : [],
            Online = id % 4 != 0,
            LastSeen = id % 4 == 0 ? DateTimeOffset.UnixEpoch.AddYears(56).AddSeconds(id) : null,
        };
    }
}
