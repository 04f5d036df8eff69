using System.Diagnostics;
using System.Globalization;
using System.Reflection;

namespace Headscale.Bench.Derp;

/// <summary>
/// Idle memory per DERP connection: the server runs in a child process (so client sockets do not count) and reports its
/// RSS and managed heap before and after <c>n</c> clients complete the handshake and sit idle (RSS / connections, as
/// TS#21064 measured derper).
/// </summary>
internal static class IdleMemory
{
    public const string ServerCommand = "derp-idle-server";

    /// <summary>Child side: serve DERP, answer "mem" with one line of numbers, exit on "quit".</summary>
    public static async Task<int> ServeAsync()
    {
        await using var host = await DerpBenchHost.StartAsync();
        Console.WriteLine($"port={host.EndPoint.Port}");
        while (Console.ReadLine() is { } line && line != "quit")
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            GC.WaitForPendingFinalizers();
            GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{host.Server.ConnectionCount} {Environment.WorkingSet} {GC.GetTotalMemory(forceFullCollection: false)}"));
        }
        return 0;
    }

    public static async Task<(double RssPerConnection, double HeapPerConnection)> MeasureAsync(int connections)
    {
        var self = Environment.ProcessPath!;
        var start = new ProcessStartInfo(self) { RedirectStandardInput = true, RedirectStandardOutput = true };
        if (Path.GetFileNameWithoutExtension(self) == "dotnet") start.ArgumentList.Add(Assembly.GetExecutingAssembly().Location);
        start.ArgumentList.Add(ServerCommand);
        using var child = Process.Start(start)!;
        var clients = new List<BenchConnection>(connections);
        try
        {
            var portLine = await child.StandardOutput.ReadLineAsync() ?? throw new InvalidOperationException("idle server exited");
            var endPoint = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, int.Parse(portLine["port=".Length..], CultureInfo.InvariantCulture));

            // Warm the server's code paths with a few connections first, so JIT and pools are in the baseline.
            for (var i = 0; i < 50; i++) await (await BenchConnection.ConnectDerpAsync(endPoint, CancellationToken.None)).DisposeAsync();
            var (_, rssBefore, heapBefore) = await SampleAsync(child, expectedConnections: 0);

            for (var i = 0; i < connections; i += 100)
            {
                var batch = Enumerable.Range(0, Math.Min(100, connections - i))
                    .Select(_ => BenchConnection.ConnectDerpAsync(endPoint, CancellationToken.None));
                clients.AddRange(await Task.WhenAll(batch));
            }
            var (_, rssAfter, heapAfter) = await SampleAsync(child, connections);
            return ((double)(rssAfter - rssBefore) / connections, (double)(heapAfter - heapBefore) / connections);
        }
        finally
        {
            foreach (var client in clients) await client.DisposeAsync();
            await child.StandardInput.WriteLineAsync("quit");
            await child.WaitForExitAsync();
        }
    }

    private static async Task<(int Connections, long Rss, long Heap)> SampleAsync(Process child, int expectedConnections)
    {
        for (var attempt = 0; ; attempt++)
        {
            await child.StandardInput.WriteLineAsync("mem");
            var parts = (await child.StandardOutput.ReadLineAsync())!.Split(' ');
            var sample = (int.Parse(parts[0], CultureInfo.InvariantCulture), long.Parse(parts[1], CultureInfo.InvariantCulture),
                long.Parse(parts[2], CultureInfo.InvariantCulture));
            if (sample.Item1 == expectedConnections) return sample;
            if (attempt > 100) throw new InvalidOperationException($"idle server holds {sample.Item1} connections, expected {expectedConnections}");
            await Task.Delay(100);
        }
    }
}
