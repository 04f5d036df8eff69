using System.Buffers;
using System.Text.Json;
using System.Threading.Channels;
using Akka.Actor;
using Akka.Hosting;
using Headscale.Actors.NetworkMap;
using Headscale.Actors.Nodes;
using Headscale.Protocol.Tailcfg;
using Microsoft.Extensions.DependencyInjection;

namespace Headscale.Actors.Tests.NetworkMap;

/// <summary>
/// A real <see cref="MapSessionActor"/> on a host's network map, as <c>/machine/map</c> starts it,
/// with the frames it writes decoded back to JSON for assertions.
/// </summary>
internal sealed class MapProbe : IAsyncDisposable
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(20);

    private readonly IActorRef _session;
    private readonly ChannelReader<MapFrame> _frames;

    private MapProbe(IActorRef session, ChannelReader<MapFrame> frames)
    {
        _session = session;
        _frames = frames;
    }

    public static async Task<MapProbe> ConnectAsync(IServiceProvider services, NodeId node)
    {
        var map = await services.GetRequiredService<IRequiredActor<NetworkMapRegistryKey>>().GetAsync(TestContext.Current.CancellationToken);
        var system = services.GetRequiredService<ActorSystem>();
        var channel = Channel.CreateBounded<MapFrame>(new BoundedChannelOptions(256) { SingleReader = true });
        var session = system.ActorOf(Props.Create(() => new MapSessionActor((long)node.Value, map, channel.Writer, false, () => TimeSpan.FromMinutes(5))));
        return new MapProbe(session, channel.Reader);
    }

    /// <summary>Waits until the map knows every one of <paramref name="nodes"/> (the feed is asynchronous).</summary>
    public static async Task WaitUntilMappedAsync(IServiceProvider services, params NodeId[] nodes)
    {
        var status = services.GetRequiredService<INetworkMapStatus>();
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(Wait);
        while ((await status.GetAsync([.. nodes.Select(n => (long)n.Value)], cts.Token)).Count < nodes.Length)
        {
            await Task.Delay(20, cts.Token);
        }
    }

    /// <summary>Reads frames until one satisfies <paramref name="condition"/>; earlier ones (other changes) are skipped.</summary>
    public async Task<JsonElement> NextMatchingAsync(Func<JsonElement, bool> condition)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(Wait);
        while (true)
        {
            var frame = await _frames.ReadAsync(cts.Token);
            var sequence = new ReadOnlySequence<byte>(frame.ToArray());
            Assert.True(MapFrameCodec.TryReadFrame(ref sequence, false, out var json));
            var message = JsonDocument.Parse(json).RootElement.Clone();
            if (condition(message))
            {
                return message;
            }
        }
    }

    public static bool ListsPeer(JsonElement message, string property, NodeId peer, Func<JsonElement, bool>? and = null) =>
        message.TryGetProperty(property, out var peers)
        && peers.ValueKind == JsonValueKind.Array
        && peers.EnumerateArray().Any(p => PeerId(p) == (long)peer.Value && (and is null || and(p)));

    private static long PeerId(JsonElement p) => p.ValueKind == JsonValueKind.Number ? p.GetInt64() : p.GetProperty("ID").GetInt64();

    public ValueTask DisposeAsync()
    {
        _session.Tell(PoisonPill.Instance);
        return ValueTask.CompletedTask;
    }
}
