using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Headscale.Api.Management;
using Headscale.Management.V1;
using Microsoft.Diagnostics.NETCore.Client;
using System.Diagnostics.Tracing;

namespace Headscale.Bench.Map;

/// <summary>
/// A real <c>headscale serve</c> in its own process (SQLite in a temporary directory, policy in the database), with its
/// management client on the unix socket and readings of its RSS and CPU time from /proc.
/// </summary>
internal sealed class BenchServer : IAsyncDisposable
{
    private bool _disposed;

    private const int SigTerm = 15;

    private readonly Process _process;
    private readonly string _directory;
    private readonly ManagementClientConnection _management;

    private BenchServer(Process process, string directory, int port, int metricsPort, ManagementClientConnection management)
    {
        _process = process;
        _directory = directory;
        Url = new Uri($"http://127.0.0.1:{port.ToString(CultureInfo.InvariantCulture)}");
        MetricsUrl = new Uri($"http://127.0.0.1:{metricsPort.ToString(CultureInfo.InvariantCulture)}/metrics");
        _management = management;
    }

    public Uri Url { get; }

    public Uri MetricsUrl { get; }

    public HeadscaleService.HeadscaleServiceClient Admin => _management.Client;

    public int ProcessId => _process.Id;

    public static async Task<BenchServer> StartAsync(
        string serverDll, IReadOnlyDictionary<string, string> environment, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var directory = Path.Combine(Path.GetTempPath(), "hs-mapbench-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(directory);
        var port = FreePort();
        var metricsPort = FreePort();
        var socket = Path.Combine(directory, "headscale.sock");
        var config = Path.Combine(directory, "config.yaml");
        await File.WriteAllTextAsync(config, $"""
            server_url: http://127.0.0.1:{port}
            listen_addr: 127.0.0.1:{port}
            metrics_listen_addr: 127.0.0.1:{metricsPort}
            grpc_listen_addr: 127.0.0.1:{FreePort()}
            unix_socket: {socket}
            noise:
              private_key_path: noise_private.key
            database:
              type: sqlite
              sqlite:
                path: {Path.Combine(directory, "db.sqlite")}
            policy:
              mode: database
            log:
              level: warn

            """, cancellationToken);

        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { serverDll, "serve", "-c", config },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = directory,
        };
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("HEADSCALE_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }

        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"could not start dotnet {serverDll}");
        // Drain the server's output so a full pipe never blocks it; only errors are of interest here.
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                Console.Error.WriteLine("server: " + e.Data);
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();

        var management = ManagementClientConnection.Open(new ManagementClientOptions(null, null, false, socket, TimeSpan.FromSeconds(120)));
        var server = new BenchServer(process, directory, port, metricsPort, management);
        try
        {
            await server.WaitUntilAnsweringAsync(timeout, cancellationToken);
            return server;
        }
        catch
        {
            await server.DisposeAsync();
            throw;
        }
    }

    /// <summary>Resident set size of the server process (VmRSS), in bytes.</summary>
    public long ReadRssBytes()
    {
        foreach (var line in File.ReadLines($"/proc/{ProcessId.ToString(CultureInfo.InvariantCulture)}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                var kib = line["VmRSS:".Length..].Trim().Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
                return long.Parse(kib, CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidDataException("VmRSS missing from /proc status of the server");
    }

    /// <summary>
    /// The server's managed heap as <c>GC.GetTotalMemory(false)</c> reports it (<c>dotnet_total_memory_bytes</c> on
    /// /metrics): live objects plus garbage not collected yet. -1 if the metric cannot be read.
    /// </summary>
    public Task<long> ReadManagedHeapBytesAsync(CancellationToken cancellationToken) =>
        ReadMetricAsync("dotnet_total_memory_bytes ", cancellationToken);

    /// <summary>Memory the GC held from the OS at its last collection (<c>dotnet_gc_committed_bytes</c>); -1 if not readable.</summary>
    public Task<long> ReadGcCommittedBytesAsync(CancellationToken cancellationToken) =>
        ReadMetricAsync("dotnet_gc_committed_bytes ", cancellationToken);

    /// <summary>
    /// The collector's heap and the free space in it per generation (gen0, gen1, gen2, loh, poh) as of its last collection
    /// (<c>dotnet_gc_heap_size_bytes</c>, <c>dotnet_gc_heap_fragmentation_bytes</c>); -1 where not readable.
    /// </summary>
    public async Task<(string Generation, long Size, long Fragmentation)[]> ReadHeapByGenerationAsync(CancellationToken cancellationToken)
    {
        string[] generations = ["gen0", "gen1", "gen2", "loh", "poh"];
        var prefixes = generations.SelectMany(static g => new[]
        {
            $"dotnet_gc_heap_size_bytes{{gc_heap_generation=\"{g}\"}} ",
            $"dotnet_gc_heap_fragmentation_bytes{{gc_heap_generation=\"{g}\"}} ",
        }).ToArray();
        var values = await ReadMetricsAsync(prefixes, cancellationToken);
        return generations.Select((g, i) => (g, values[2 * i], values[(2 * i) + 1])).ToArray();
    }

    /// <summary>Connection buffers the transport's pool holds for reuse (<c>headscale_transport_pool_free_bytes</c>); -1 if not readable.</summary>
    public Task<long> ReadTransportPoolFreeBytesAsync(CancellationToken cancellationToken) =>
        ReadMetricAsync("headscale_transport_pool_free_bytes ", cancellationToken);

    /// <summary>
    /// Aggressive collections the server's memory reclaimer ran so far and their pauses in milliseconds
    /// (<c>headscale_memory_reclaims_total</c>, <c>headscale_memory_reclaim_pause_seconds_total</c>); -1 if not readable.
    /// </summary>
    public async Task<(long Count, long PauseMs)> ReadMemoryReclaimsAsync(CancellationToken cancellationToken)
    {
        var values = await ReadMetricsAsync(["headscale_memory_reclaims_total ", "headscale_memory_reclaim_pause_seconds_total "], cancellationToken, scale: [1, 1000]);
        return (values[0], values[1]);
    }

    private async Task<long> ReadMetricAsync(string prefix, CancellationToken cancellationToken) =>
        (await ReadMetricsAsync([prefix], cancellationToken))[0];

    /// <summary>One scrape; the value of the first line starting with each prefix, -1 where none does or the scrape failed.</summary>
    private async Task<long[]> ReadMetricsAsync(string[] prefixes, CancellationToken cancellationToken, double[]? scale = null)
    {
        var values = prefixes.Select(static _ => -1L).ToArray();
        try
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
            var text = await http.GetStringAsync(MetricsUrl, cancellationToken);
            foreach (var line in text.Split('\n'))
            {
                for (var i = 0; i < prefixes.Length; i++)
                {
                    if (values[i] < 0 && line.StartsWith(prefixes[i], StringComparison.Ordinal))
                    {
                        values[i] = (long)(double.Parse(line[prefixes[i].Length..], CultureInfo.InvariantCulture) * (scale?[i] ?? 1));
                    }
                }
            }
        }
        catch (HttpRequestException)
        {
        }

        return values;
    }

    /// <summary>
    /// Has the server run a full blocking collection, the way <c>dotnet-gcdump</c> triggers one: an EventPipe session on the
    /// diagnostics port with the runtime provider's GC-heap-collect keyword. Returns once the server's gen-2 count has
    /// moved, so a managed-heap reading afterwards is the live heap rather than live objects plus uncollected garbage.
    /// </summary>
    public async Task CollectGarbageAsync(CancellationToken cancellationToken)
    {
        const long GcHeapCollectKeyword = 0x800000;
        var before = await ReadGen2CollectionsAsync(cancellationToken);
        var client = new DiagnosticsClient(ProcessId);
        using var session = client.StartEventPipeSession(
            new EventPipeProvider("Microsoft-Windows-DotNETRuntime", EventLevel.Informational, GcHeapCollectKeyword),
            requestRundown: false);
        // The session's stream must be read or the runtime stops writing to it.
        var drain = session.EventStream.CopyToAsync(Stream.Null, cancellationToken);
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(60));
        while (await ReadGen2CollectionsAsync(deadline.Token) <= before)
        {
            await Task.Delay(50, deadline.Token);
        }

        await session.StopAsync(cancellationToken);
        try
        {
            await drain;
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or OperationCanceledException)
        {
        }
    }

    private async Task<long> ReadGen2CollectionsAsync(CancellationToken cancellationToken)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var text = await http.GetStringAsync(MetricsUrl, cancellationToken);
        const string Gen2 = "dotnet_collection_count_total{generation=\"2\"} ";
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith(Gen2, StringComparison.Ordinal))
            {
                return long.Parse(line[Gen2.Length..], CultureInfo.InvariantCulture);
            }
        }

        throw new InvalidDataException("the server's /metrics has no gen-2 collection count");
    }

    /// <summary>User plus system CPU time of the server process so far.</summary>
    public TimeSpan ReadCpuTime()
    {
        var stat = File.ReadAllText($"/proc/{ProcessId.ToString(CultureInfo.InvariantCulture)}/stat");
        // Fields after the parenthesised command name; utime and stime are fields 14 and 15 of the whole line.
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
        return TimeSpan.FromSeconds(ticks / (double)ClockTicksPerSecond);
    }

    private static long ClockTicksPerSecond => 100; // USER_HZ is 100 on every Linux ABI .NET supports

    private async Task WaitUntilAnsweringAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var http = new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(5) };
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        while (true)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"headscale exited with code {_process.ExitCode} before answering");
            }

            try
            {
                using var response = await http.GetAsync("/health", deadline.Token);
                return;
            }
            catch (HttpRequestException)
            {
                await Task.Delay(100, deadline.Token);
            }
            catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                throw new TimeoutException($"headscale did not answer /health within {timeout.TotalSeconds} s");
            }
        }
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _management.Dispose();
        if (!_process.HasExited)
        {
            _ = Kill(_process.Id, SigTerm);
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await _process.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}
