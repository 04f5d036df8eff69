using System.Net;
using System.Net.Sockets;
using System.Text;
using Headscale.IntegrationTests.Support;

namespace Headscale.IntegrationTests;

/// <summary>The real server's connections take their buffers from the trimming pool, which lets a burst's surplus go.</summary>
public sealed class TransportPoolTests
{
    private const int BlockSize = 4096;
    private const int Connections = 32;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Buffers_a_burst_of_connections_needed_are_let_go_once_the_burst_is_over()
    {
        using var config = new TestServerConfig();
        await using var server = await ServerProcess.StartAsync(config, Ct);
        using var metrics = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.MetricsPort}") };

        // What the scrapes themselves keep in the pool (their own response buffers), before any burst.
        var quiet = await WaitForAsync(metrics, static _ => true, "a first scrape");
        var scrapesKeep = Sample(quiet, "headscale_transport_pool_free_bytes");
        var allocatedBefore = Sample(quiet, "headscale_transport_pool_allocated_bytes_total");

        // Each connection sends most of a request head and waits: Kestrel keeps the unparsed bytes in a block.
        var sockets = new List<Socket>();
        try
        {
            var partialHead = Encoding.ASCII.GetBytes("GET /health HTTP/1.1\r\nHost: test\r\nX-Padding: " + new string('p', 3000));
            for (var i = 0; i < Connections; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                sockets.Add(socket);
                await socket.ConnectAsync(IPAddress.Loopback, server.Port, Ct);
                await socket.SendAsync(partialHead, SocketFlags.None, Ct);
            }

            await WaitForAsync(metrics, samples => Sample(samples, "headscale_transport_pool_allocated_bytes_total") - allocatedBefore >= Connections * BlockSize,
                "the pool to hand out a block to each waiting connection");
        }
        finally
        {
            sockets.ForEach(static socket => socket.Dispose());
        }

        // Nothing needs the burst's blocks any more (at least one per connection): the pool lets them go within
        // seconds, down to about what the scrapes themselves use.
        await WaitForAsync(
            metrics,
            samples => Sample(samples, "headscale_transport_pool_released_bytes_total") >= Connections * BlockSize
                && Sample(samples, "headscale_transport_pool_free_bytes") < scrapesKeep + (Connections / 2 * BlockSize),
            "the pool to let the burst's blocks go");
    }

    private static string Describe(Dictionary<string, double> samples) =>
        string.Join(", ", samples.Where(static s => s.Key.StartsWith("headscale_transport_pool_", StringComparison.Ordinal)).Select(static s => $"{s.Key}={s.Value}"));

    private static double Sample(Dictionary<string, double> samples, string series) => samples.GetValueOrDefault(series);

    private static async Task<Dictionary<string, double>> WaitForAsync(HttpClient metrics, Func<Dictionary<string, double>, bool> condition, string what)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(60));
        var last = new Dictionary<string, double>();
        try
        {
            while (true)
            {
                last = ObservabilityTests.Parse(await metrics.GetStringAsync("/metrics", timeout.Token));
                if (condition(last))
                {
                    return last;
                }

                await Task.Delay(100, timeout.Token);
            }
        }
        catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
        {
            throw new TimeoutException($"waited 60 s for {what}; last scrape: {Describe(last)}");
        }
    }
}
