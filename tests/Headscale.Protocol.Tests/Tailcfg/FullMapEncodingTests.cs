using System.Buffers;
using System.Collections.Immutable;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using Headscale.Protocol.Tailcfg;
using Xunit;

namespace Headscale.Protocol.Tests.Tailcfg;

/// <summary>Full maps assembled from shared peer chunks (<see cref="MapFrameCodec.EncodeFullMap"/>, <see cref="PeerChunkCache"/>).</summary>
public sealed class FullMapEncodingTests
{
    private static readonly DateTimeOffset Created = new(2026, 8, 1, 9, 0, 0, TimeSpan.Zero);

    /// <summary>Ids on both sides of several group edges (63|64, 127|128), and far apart.</summary>
    private static readonly long[] SpreadIds = [1, 2, 3, 40, 63, 64, 65, 100, 127, 128, 129, 300, 1_000, 1_001, 70_000];

    private static MapNode Peer(long id, string? endpoint = null) => new()
    {
        Id = id,
        Name = $"node-{id}.tail.example.com.",
        User = 1 + id % 7,
        Key = "nodekey:" + id.ToString("x64"),
        Machine = "mkey:" + (id * 31).ToString("x64"),
        DiscoKey = "discokey:" + (id * 17).ToString("x64"),
        Addresses = [$"100.64.{id / 250}.{id % 250 + 1}/32", $"fd7a:115c:a1e0::{id:x}/128"],
        Endpoints = [endpoint ?? $"203.0.113.{id % 250}:41641", "[2001:db8::1]:41641"],
        HomeDerp = 999,
        Hostinfo = Encoding.UTF8.GetBytes($$$"""{"IPNVersion":"1.90.0","OS":"linux","Hostname":"node-{{{id}}}","GoArch":"amd64","NetInfo":{"PreferredDERP":999}}"""),
        Created = Created,
        Online = id % 3 != 0,
        LastSeen = id % 3 == 0 ? Created.AddHours(id) : null,
        Tags = id % 5 == 0 ? ["tag:server"] : [],
    };

    private static MapResponse FullMap(long viewerId, IEnumerable<MapNode> peers) => new()
    {
        ControlTime = new DateTimeOffset(2026, 8, 20, 10, 0, 0, TimeSpan.Zero),
        Node = Peer(viewerId) with { Online = null, CapMap = """{"https://tailscale.com/cap/ssh":[]}"""u8.ToArray() },
        DerpMapRaw = """{"Regions":{"999":{"RegionID":999,"RegionCode":"hs"}}}"""u8.ToArray(),
        Peers = peers.ToImmutableArray() is { IsEmpty: false } list ? list : null,
        DnsConfig = new DnsConfig { Domains = ["tail.example.com"], Proxied = true },
        Domain = "tail.example.com",
        CollectServices = false,
        PacketFilterRaw = Encoding.UTF8.GetBytes($$$"""[{"SrcIPs":["100.64.0.{{{viewerId}}}/32"],"DstPorts":[{"IP":"*","Ports":{"First":0,"Last":65535}}]}]"""),
        SshPolicyRaw = """{"rules":[]}"""u8.ToArray(),
        UserProfiles = [new UserProfile(1, "one@example.com", "one@example.com")],
        DisableLogTail = true,
    };

    private static JsonElement Decode(MapFrame frame, bool zstd)
    {
        var sequence = new ReadOnlySequence<byte>(frame.ToArray());
        Assert.True(MapFrameCodec.TryReadFrame(ref sequence, zstd, out var json));
        Assert.Equal(0, sequence.Length);
        return JsonDocument.Parse(json).RootElement;
    }

    private static long[] PeerIds(JsonElement map) => [.. map.GetProperty("Peers").EnumerateArray().Select(p => p.GetProperty("ID").GetInt64())];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_full_map_across_several_groups_decodes_to_the_same_response_as_one_frame(bool zstd)
    {
        // Given out of order: the wire list is sorted by id either way.
        var response = FullMap(viewerId: 66, SpreadIds.Reverse().Select(id => Peer(id)));

        var assembled = Decode(MapFrameCodec.EncodeFullMap(response, zstd, new PeerChunkCache()), zstd);
        var single = Decode(MapFrameCodec.Encode(response, zstd), zstd);

        Assert.True(JsonElement.DeepEquals(single, assembled), assembled.GetRawText());
        Assert.Equal(SpreadIds, PeerIds(assembled));
        Assert.Equal("node-66.tail.example.com.", assembled.GetProperty("Node").GetProperty("Name").GetString());
    }

    [Fact]
    public void A_compressed_full_map_is_several_frames_under_one_length_prefix()
    {
        var response = FullMap(viewerId: 500, SpreadIds.Select(id => Peer(id)));

        var frame = MapFrameCodec.EncodeFullMap(response, zstd: true, new PeerChunkCache()).ToArray();

        Assert.Equal((uint)(frame.Length - 4), System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(frame));
        // zstd frames start with the magic number 0xFD2FB528 (little-endian): the opening piece, six groups, five commas, the tail.
        var magic = new byte[] { 0x28, 0xB5, 0x2F, 0xFD };
        var frames = 0;
        for (var at = frame.AsSpan(4); at.IndexOf(magic) is var i and >= 0; at = at[(i + magic.Length)..])
        {
            frames++;
        }

        Assert.True(frames >= 13, $"{frames} zstd frames");
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_full_map_with_one_peer_and_one_without_peers_decode_like_one_frame(bool zstd)
    {
        foreach (var response in new[] { FullMap(9, [Peer(70)]), FullMap(9, []), new MapResponse { Peers = [Peer(3)] } })
        {
            var assembled = Decode(MapFrameCodec.EncodeFullMap(response, zstd, new PeerChunkCache()), zstd);
            var single = Decode(MapFrameCodec.Encode(response, zstd), zstd);

            Assert.True(JsonElement.DeepEquals(single, assembled), assembled.GetRawText());
        }
    }

    [Fact]
    public void Viewers_that_see_the_same_groups_share_their_compressed_chunks()
    {
        var cache = new PeerChunkCache();
        var peers = Enumerable.Range(1, 200).Select(id => Peer(id)).ToList();

        // Viewers 500 and 501 (group 7) see peers 1–200: groups 0 to 3, identical for both.
        var first = Decode(MapFrameCodec.EncodeFullMap(FullMap(500, peers), zstd: true, cache), zstd: true);
        Assert.Equal((0L, 4L), (cache.Hits, cache.Misses));
        var second = Decode(MapFrameCodec.EncodeFullMap(FullMap(501, peers), zstd: true, cache), zstd: true);

        Assert.Equal((4L, 4L), (cache.Hits, cache.Misses));
        Assert.Equal(PeerIds(first), PeerIds(second));
        Assert.Equal(501, second.GetProperty("Node").GetProperty("ID").GetInt64());
        Assert.Contains("100.64.0.501/32", second.GetProperty("PacketFilters").GetProperty("base").GetRawText());
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_full_map_is_written_from_its_pieces_without_being_copied_into_one_array(bool zstd)
    {
        var cache = new PeerChunkCache();
        var peers = Enumerable.Range(1, 3_000).Select(id => Peer(id)).ToList();
        var warmUp = FullMap(500, peers);
        MapFrameCodec.EncodeFullMap(warmUp, zstd, cache).WriteTo(new ArrayBufferWriter<byte>());
        var response = FullMap(501, peers);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var frame = MapFrameCodec.EncodeFullMap(response, zstd, cache);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        // Peers' JSON and shared chunks are cached: what one viewer allocates is its own pieces and the list of parts.
        Assert.True(allocated < frame.Length, $"encoding allocated {allocated} bytes for a {frame.Length}-byte frame");
        var written = new ArrayBufferWriter<byte>();
        frame.WriteTo(written);
        Assert.Equal(frame.Length, written.WrittenCount);
        Assert.Equal(written.WrittenSpan.ToArray(), frame.ToArray());
        var decoded = Decode(frame, zstd);
        Assert.Equal(Enumerable.Range(1, 3_000).Select(id => (long)id), PeerIds(decoded));
    }

    [Fact]
    public void An_empty_map_frame_refuses_to_be_written()
    {
        Assert.True(default(MapFrame).IsEmpty);
        Assert.Throws<InvalidOperationException>(() => default(MapFrame).WriteTo(new ArrayBufferWriter<byte>()));
        Assert.Throws<ArgumentException>(() => new MapFrame([1, 2]));
    }

    [Fact]
    public void A_changed_peer_entry_is_compressed_anew_and_never_served_from_the_old_chunk()
    {
        var cache = new PeerChunkCache();
        var peers = Enumerable.Range(1, 130).Select(id => Peer(id)).ToList();
        MapFrameCodec.EncodeFullMap(FullMap(500, peers), zstd: true, cache);

        // The network map replaces an entry when the node changes: a new instance with the new endpoint.
        peers[69] = Peer(70, endpoint: "198.51.100.70:41641");
        var after = Decode(MapFrameCodec.EncodeFullMap(FullMap(501, peers), zstd: true, cache), zstd: true);

        var moved = after.GetProperty("Peers").EnumerateArray().Single(p => p.GetProperty("ID").GetInt64() == 70);
        Assert.Equal("198.51.100.70:41641", moved.GetProperty("Endpoints")[0].GetString());
        // Groups 0 and 2 come from the cache; group 1 (ids 64–127) holds the new entry.
        Assert.Equal((2L, 4L), (cache.Hits, cache.Misses));
    }

    [Fact]
    public void A_group_partly_visible_to_one_viewer_gets_its_own_chunk_and_the_other_groups_are_shared()
    {
        var cache = new PeerChunkCache();
        var all = Enumerable.Range(1, 200).Select(id => Peer(id)).ToList();
        var hidden = all.Where(p => p.Id != 100).ToList();

        MapFrameCodec.EncodeFullMap(FullMap(500, all), zstd: true, cache);
        var partial = Decode(MapFrameCodec.EncodeFullMap(FullMap(501, hidden), zstd: true, cache), zstd: true);
        var full = Decode(MapFrameCodec.EncodeFullMap(FullMap(502, all), zstd: true, cache), zstd: true);

        Assert.DoesNotContain(100L, PeerIds(partial));
        Assert.Equal(199, PeerIds(partial).Length);
        Assert.Contains(100L, PeerIds(full));
        Assert.Equal(200, PeerIds(full).Length);
        // Viewer 501: groups 0, 2, 3 shared, group 1 new; viewer 502: all four shared.
        Assert.Equal((7L, 5L), (cache.Hits, cache.Misses));
    }

    [Fact]
    public void Only_the_eight_ids_around_the_viewer_are_compressed_for_it_alone_and_the_rest_of_its_group_is_shared()
    {
        var cache = new PeerChunkCache();
        var all = Enumerable.Range(1, 130).Select(id => Peer(id)).ToList();
        long[] Expected(long viewer) => [.. all.Select(p => p.Id).Where(id => id != viewer)];
        long[] MapOf(long viewer) =>
            PeerIds(Decode(MapFrameCodec.EncodeFullMap(FullMap(viewer, all.Where(p => p.Id != viewer)), zstd: true, cache), zstd: true));

        // Viewer 70 is in group 1 (ids 64–127), eighth 8 (ids 64–71): groups 0 and 2 whole, eighths 9–15 of group 1 kept.
        Assert.Equal(Expected(70), MapOf(70));
        Assert.Equal((0L, 9L, 1L), (cache.Hits, cache.Misses, cache.Uncached));

        // Viewer 71 shares its eighth with 70 (each misses the other there): everything else comes from the cache.
        Assert.Equal(Expected(71), MapOf(71));
        Assert.Equal((9L, 9L, 2L), (cache.Hits, cache.Misses, cache.Uncached));

        // Viewer 100 (eighth 12) sees eighth 8 whole for the first time, and shares the others.
        Assert.Equal(Expected(100), MapOf(100));
        Assert.Equal((17L, 10L, 3L), (cache.Hits, cache.Misses, cache.Uncached));
    }

    [Fact]
    public void Chunks_of_replaced_entries_are_let_go()
    {
        var cache = new PeerChunkCache();
        var peers = Enumerable.Range(1, 63).Select(id => Peer(id)).ToList();
        var replaced = EncodeThenReplace(cache, peers);

        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        Assert.False(replaced.TryGetTarget(out _), "the cache still holds the replaced entry");
        Assert.Equal(2, cache.Misses);
    }

    [Fact]
    public void A_group_seen_in_many_ways_keeps_only_a_few_chunks()
    {
        var cache = new PeerChunkCache();
        var peers = Enumerable.Range(1, 63).Select(id => Peer(id)).ToList();

        // Peer 1 stays first; each viewer misses a different other member: more subsets than the cache keeps.
        for (var missing = 2; missing < 2 + PeerChunkCache.MaxVariants + 2; missing++)
        {
            var visible = peers.Where(p => p.Id != missing).ToList();
            Decode(MapFrameCodec.EncodeFullMap(FullMap(1_000, visible), zstd: true, cache), zstd: true);
        }

        // The first subset was evicted (least recently used); the last is still there.
        MapFrameCodec.EncodeFullMap(FullMap(1_001, peers.Where(p => p.Id != 2)), zstd: true, cache);
        Assert.Equal(0, cache.Hits);
        MapFrameCodec.EncodeFullMap(FullMap(1_001, peers.Where(p => p.Id != 2)), zstd: true, cache);
        Assert.Equal(1, cache.Hits);
    }

    [Fact]
    public void Full_maps_assembled_on_many_threads_at_once_each_list_their_own_peers()
    {
        var cache = new PeerChunkCache();
        var peers = Enumerable.Range(1, 300).Select(id => Peer(id)).ToArray();
        var decoded = new long[32][];

        Parallel.For(0, decoded.Length, i =>
        {
            var visible = peers.Where(p => p.Id % 32 != i);
            decoded[i] = PeerIds(Decode(MapFrameCodec.EncodeFullMap(FullMap(10_000 + i, visible), zstd: true, cache), zstd: true));
        });

        for (var i = 0; i < decoded.Length; i++)
        {
            Assert.Equal(peers.Select(p => p.Id).Where(id => id % 32 != i), decoded[i]);
        }
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static WeakReference<MapNode> EncodeThenReplace(PeerChunkCache cache, List<MapNode> peers)
    {
        var old = peers[40];
        MapFrameCodec.EncodeFullMap(FullMap(500, peers), zstd: true, cache);
        peers[40] = Peer(old.Id, endpoint: "198.51.100.41:41641");
        MapFrameCodec.EncodeFullMap(FullMap(501, peers), zstd: true, cache);
        return new WeakReference<MapNode>(old);
    }
}
