using System.Diagnostics;
using System.Globalization;
using System.Runtime;

namespace Headscale.Bench.Derp;

/// <summary>
/// B5 (performance.md): relayed packets/s, loss and latency of the embedded DERP relay against a raw TCP forwarder in the
/// same run (reported as a ratio, goal ≥ 70 %), and idle memory per DERP connection measured in a separate server process.
/// Not a BenchmarkDotNet benchmark: it measures a steady-state network flow, not a method.
/// <code>dotnet run -c Release --project bench/Headscale.Bench -- derp [--pairs 10] [--size 1400] [--window 16]
///   [--warmup 2] [--seconds 6] [--runs 2] [--idle 5000]</code>
/// </summary>
internal static class DerpRelayBenchmark
{
    public const string Command = "derp";

    private sealed record Settings(int Pairs, int Size, int Window, TimeSpan WarmUp, TimeSpan Measure, int Runs, int IdleConnections);

    public static async Task<int> RunAsync(string[] args)
    {
        var settings = Parse(args);
        Console.WriteLine($"DERP relay benchmark: {settings.Pairs} pairs, {settings.Size}-byte packets, window {settings.Window}, " +
                          $"warm-up {settings.WarmUp.TotalSeconds} s, measured {settings.Measure.TotalSeconds} s, {settings.Runs} runs per mode; " +
                          $"{Environment.ProcessorCount} cores, server GC {GCSettings.IsServerGC}");

        var raw = new List<LoadResult>();
        var derp = new List<LoadResult>();
        for (var run = 0; run < settings.Runs; run++)
        {
            raw.Add(await RunForwarderAsync(settings, settings.Pairs, settings.Window));
            Report($"raw forwarder, run {run + 1}", raw[^1]);
            derp.Add(await RunDerpAsync(settings, settings.Pairs, settings.Window));
            Report($"DERP relay,    run {run + 1}", derp[^1]);
        }
        if (settings.Runs > 0)
        {
            await RunIdleLatencyAsync(settings);
            var ratio = derp.Average(r => r.PacketsPerSecond) / raw.Average(r => r.PacketsPerSecond);
            Console.WriteLine($"ratio DERP / raw packets/s: {ratio:P1} (goal >= 70 %)");
        }

        if (settings.IdleConnections > 0)
        {
            var (rssPerConnection, heapPerConnection) = await IdleMemory.MeasureAsync(settings.IdleConnections);
            Console.WriteLine($"idle DERP connections: {settings.IdleConnections}; server process RSS {rssPerConnection / 1024.0:F1} KiB " +
                              $"and managed heap {heapPerConnection / 1024.0:F1} KiB per connection");
        }
        return 0;
    }

    /// <summary>Latency without load: one pair, one packet in flight.</summary>
    private static async Task RunIdleLatencyAsync(Settings settings)
    {
        var idle = settings with { WarmUp = TimeSpan.FromSeconds(1), Measure = TimeSpan.FromSeconds(2) };
        Report("raw forwarder, idle (1 pair, 1 in flight)", await RunForwarderAsync(idle, 1, 1));
        Report("DERP relay,    idle (1 pair, 1 in flight)", await RunDerpAsync(idle, 1, 1));
    }

    private static void Report(string what, LoadResult r) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{what}: {r.PacketsPerSecond,10:N0} packets/s, loss {r.LossPercent:F3} % ({r.Sent - r.Received} of {r.Sent}), " +
            $"one-way latency p50 {r.P50Microseconds:N0} µs, p99 {r.P99Microseconds:N0} µs"));

    private static async Task<LoadResult> RunDerpAsync(Settings settings, int pairCount, int window)
    {
        await using var host = await DerpBenchHost.StartAsync();
        var pairs = new List<(BenchConnection, BenchConnection)>();
        try
        {
            for (var i = 0; i < pairCount; i++)
                pairs.Add((await BenchConnection.ConnectDerpAsync(host.EndPoint, CancellationToken.None),
                    await BenchConnection.ConnectDerpAsync(host.EndPoint, CancellationToken.None)));
            return await RelayLoad.RunAsync(pairs, settings.Size, window, settings.WarmUp, settings.Measure);
        }
        finally
        {
            await DisposeAsync(pairs);
        }
    }

    private static async Task<LoadResult> RunForwarderAsync(Settings settings, int pairCount, int window)
    {
        await using var forwarder = new RawTcpForwarder();
        var pairs = new List<(BenchConnection, BenchConnection)>();
        try
        {
            for (var i = 0; i < pairCount; i++)
            {
                var receiver = await BenchConnection.ConnectForwarderAsync(forwarder.EndPoint, i, receiver: true, CancellationToken.None);
                var sender = await BenchConnection.ConnectForwarderAsync(forwarder.EndPoint, i, receiver: false, CancellationToken.None);
                pairs.Add((sender, receiver));
            }
            return await RelayLoad.RunAsync(pairs, settings.Size, window, settings.WarmUp, settings.Measure);
        }
        finally
        {
            await DisposeAsync(pairs);
        }
    }

    private static async Task DisposeAsync(List<(BenchConnection Sender, BenchConnection Receiver)> pairs)
    {
        foreach (var (sender, receiver) in pairs)
        {
            await sender.DisposeAsync();
            await receiver.DisposeAsync();
        }
    }

    private static Settings Parse(string[] args)
    {
        var settings = new Settings(10, 1400, 16, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(6), 2, 5000);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            var value = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            settings = args[i] switch
            {
                "--pairs" => settings with { Pairs = value },
                "--size" => settings with { Size = Math.Clamp(value, 16, 65536) },
                "--window" => settings with { Window = value },
                "--warmup" => settings with { WarmUp = TimeSpan.FromSeconds(value) },
                "--seconds" => settings with { Measure = TimeSpan.FromSeconds(value) },
                "--runs" => settings with { Runs = value },
                "--idle" => settings with { IdleConnections = value },
                _ => throw new ArgumentException($"unknown option '{args[i]}'"),
            };
        }
        return settings;
    }
}
