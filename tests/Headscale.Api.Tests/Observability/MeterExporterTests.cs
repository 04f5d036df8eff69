using System.Diagnostics.Metrics;
using System.Text;
using Headscale.Api.Observability;
using Prometheus;
using Xunit;

namespace Headscale.Api.Tests.Observability;

/// <summary>Meter instruments become Prometheus metrics with our naming rules, in a registry of the test's own.</summary>
public sealed class MeterExporterTests
{
    private static async Task<string> ScrapeAsync(CollectorRegistry registry)
    {
        using var stream = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(stream, TestContext.Current.CancellationToken);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>A registry of the test's own, exporting a meter named as the DERP library's into it.</summary>
    private sealed class ExportedMeter : IDisposable
    {
        private readonly MeterExporter _exporter;

        public ExportedMeter()
        {
            _exporter = new MeterExporter(Registry);
            Meter = new Meter(Headscale.Derp.Server.DerpMetrics.MeterName);
        }

        public CollectorRegistry Registry { get; } = Metrics.NewCustomRegistry();

        public Meter Meter { get; }

        public void Dispose()
        {
            Meter.Dispose();
            _exporter.Dispose();
        }
    }

    [Fact]
    public async Task Counters_get_total_byte_units_get_bytes_and_tags_become_labels()
    {
        var registry = Metrics.NewCustomRegistry();
        using var exporter = new MeterExporter(registry);
        using var meter = new Meter(Headscale.Derp.Server.DerpMetrics.MeterName);
        var drops = meter.CreateCounter<long>("headscale_derp_test_drops", description: "Dropped.");
        var bytes = meter.CreateCounter<long>("headscale_derp_test_sent", "By", "Sent.");
        var open = meter.CreateUpDownCounter<long>("headscale_derp_test_open");
        var latency = meter.CreateHistogram<double>("headscale_derp_test_latency", "s");

        drops.Add(2, new KeyValuePair<string, object?>("reason", "queue_full"));
        drops.Add(1, new KeyValuePair<string, object?>("reason", "client_gone"));
        bytes.Add(1500);
        open.Add(3);
        open.Add(-1);
        latency.Record(0.02);

        var text = await ScrapeAsync(registry);

        Assert.Contains("# TYPE headscale_derp_test_drops_total counter", text);
        Assert.Contains("headscale_derp_test_drops_total{reason=\"queue_full\"} 2", text);
        Assert.Contains("headscale_derp_test_drops_total{reason=\"client_gone\"} 1", text);
        Assert.Contains("headscale_derp_test_sent_bytes_total 1500", text);
        Assert.Contains("# TYPE headscale_derp_test_open gauge", text);
        Assert.Contains("headscale_derp_test_open 2", text);
        Assert.Contains("headscale_derp_test_latency_seconds_bucket{le=\"0.025\"} 1", text);
        Assert.Contains("headscale_derp_test_latency_seconds_count 1", text);
    }

    [Fact]
    public async Task A_measurement_with_tags_seen_before_finds_its_series_without_allocating()
    {
        using var exported = new ExportedMeter();
        var frames = exported.Meter.CreateCounter<long>("headscale_derp_test_frames");
        var ok = new KeyValuePair<string, object?>("status", "ok");
        var delta = new KeyValuePair<string, object?>("type", "delta");
        frames.Add(1, ok, delta);

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 10_000; i++)
        {
            frames.Add(1, ok, delta);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // The same tags in another order select the same series.
        frames.Add(1, delta, ok);

        // Building the labels cost 40 bytes a measurement (400 KB here). The bound leaves room for exporters of servers
        // that other tests start meanwhile: they see this meter too and build their series on this thread once.
        Assert.True(allocated < 40_000, $"10,000 measurements allocated {allocated} bytes");
        Assert.Contains("headscale_derp_test_frames_total{status=\"ok\",type=\"delta\"} 10002", await ScrapeAsync(exported.Registry));
    }

    [Fact]
    public async Task Tag_sets_past_the_remembered_ones_are_still_counted_in_their_own_series()
    {
        using var exported = new ExportedMeter();
        var drops = exported.Meter.CreateCounter<long>("headscale_derp_test_spread");
        for (var round = 0; round < 2; round++)
        {
            for (var i = 0; i < 100; i++)
            {
                drops.Add(i, new KeyValuePair<string, object?>("reason", $"r{i}"));
            }
        }

        var text = await ScrapeAsync(exported.Registry);

        Assert.Contains("headscale_derp_test_spread_total{reason=\"r1\"} 2", text);
        Assert.Contains("headscale_derp_test_spread_total{reason=\"r63\"} 126", text);
        Assert.Contains("headscale_derp_test_spread_total{reason=\"r99\"} 198", text);
    }

    [Fact]
    public async Task Observable_instruments_are_read_at_scrape_time_and_other_meters_are_ignored()
    {
        var registry = Metrics.NewCustomRegistry();
        using var exporter = new MeterExporter(registry);
        using var ours = new Meter(Headscale.Actors.Observability.HeadscaleMetrics.MeterName);
        using var foreign = new Meter("Somebody.Else");
        var total = 5L;
        ours.CreateObservableCounter("headscale_test_observed", () => total);
        ours.CreateObservableGauge("headscale_test_level_count", () => 7);
        foreign.CreateCounter<long>("headscale_test_foreign").Add(1);

        var first = await ScrapeAsync(registry);
        total = 9;
        var second = await ScrapeAsync(registry);

        Assert.Contains("headscale_test_observed_total 5", first);
        Assert.Contains("headscale_test_observed_total 9", second);
        // promtool refuses _count on a gauge.
        Assert.Contains("headscale_test_level_number 7", second);
        Assert.DoesNotContain("headscale_test_foreign", second);
    }

    [Fact]
    public void Runtime_instruments_are_renamed_and_unknown_ones_are_left_out()
    {
        using var meter = new Meter("System.Runtime");
        var collections = meter.CreateObservableCounter("dotnet.gc.collections", () => 1L);
        var unknown = meter.CreateObservableCounter("dotnet.some.other", () => 1L);

        Assert.Equal("dotnet_gc_collections_total", MeterExporter.PrometheusName(collections));
        Assert.Null(MeterExporter.PrometheusName(unknown));
    }

    [Fact]
    public async Task A_runtime_level_published_as_an_observable_counter_is_exported_as_a_gauge()
    {
        var registry = Metrics.NewCustomRegistry();
        using var exporter = new MeterExporter(registry);
        using var meter = new Meter("System.Runtime");
        var threads = 12L;
        var instrument = meter.CreateObservableCounter("dotnet.thread_pool.thread.count", () => threads, "{thread}");

        Assert.Equal("dotnet_threadpool_threads", MeterExporter.PrometheusName(instrument));
        await ScrapeAsync(registry);
        threads = 7;
        var text = await ScrapeAsync(registry);

        Assert.Contains("# TYPE dotnet_threadpool_threads gauge", text);
        Assert.Contains("dotnet_threadpool_threads 7", text);
        Assert.DoesNotContain("dotnet_threadpool_threads_total", text);
    }

    [Fact]
    public async Task The_gc_memory_levels_are_exported_as_gauges_with_their_generation()
    {
        var registry = Metrics.NewCustomRegistry();
        using var exporter = new MeterExporter(registry);
        using var meter = new Meter("System.Runtime");
        var generation = new KeyValuePair<string, object?>("gc.heap.generation", "gen2");
        meter.CreateObservableUpDownCounter("dotnet.gc.last_collection.memory.committed_size", () => 4096L, "By");
        meter.CreateObservableUpDownCounter("dotnet.gc.last_collection.heap.size", () => new Measurement<long>(2048L, generation), "By");
        meter.CreateObservableUpDownCounter("dotnet.gc.last_collection.heap.fragmentation.size", () => new Measurement<long>(512L, generation), "By");

        var text = await ScrapeAsync(registry);

        Assert.Contains("# TYPE dotnet_gc_committed_bytes gauge", text);
        Assert.Contains("dotnet_gc_committed_bytes 4096", text);
        Assert.Contains("dotnet_gc_heap_size_bytes{gc_heap_generation=\"gen2\"} 2048", text);
        Assert.Contains("dotnet_gc_heap_fragmentation_bytes{gc_heap_generation=\"gen2\"} 512", text);
    }

    [Fact]
    public async Task Npgsql_pool_instruments_become_headscale_db_metrics()
    {
        var registry = Metrics.NewCustomRegistry();
        using var exporter = new MeterExporter(registry);
        using var meter = new Meter("Npgsql");
        var state = new KeyValuePair<string, object?>("db.client.connection.state", "idle");
        var pool = new KeyValuePair<string, object?>("db.client.connection.pool.name", "journal");
        meter.CreateObservableUpDownCounter("db.client.connection.count", () => new Measurement<int>(3, state, pool), "{connection}");
        meter.CreateObservableUpDownCounter("db.client.connection.max", () => new Measurement<int>(100, pool), "{connection}");
        meter.CreateHistogram<double>("db.client.operation.duration", "s").Record(0.004, pool);
        meter.CreateCounter<long>("db.client.operation.npgsql.bytes_read", "By").Add(512, pool);

        var text = await ScrapeAsync(registry);

        Assert.Contains("# TYPE headscale_db_connections gauge", text);
        Assert.Contains("headscale_db_connections{db_client_connection_pool_name=\"journal\",db_client_connection_state=\"idle\"} 3", text);
        Assert.Contains("headscale_db_connection_max{db_client_connection_pool_name=\"journal\"} 100", text);
        Assert.Contains("headscale_db_operation_duration_seconds_count{db_client_connection_pool_name=\"journal\"} 1", text);
        Assert.Contains("headscale_db_operation_npgsql_bytes_read_total{db_client_connection_pool_name=\"journal\"} 512", text);
    }
}
