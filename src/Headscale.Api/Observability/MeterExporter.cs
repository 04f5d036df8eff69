using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Prometheus;

namespace Headscale.Api.Observability;

/// <summary>
/// Exports <see cref="System.Diagnostics.Metrics"/> instruments to the Prometheus registry with
/// names we choose. prometheus-net's own meter adapter is switched off because it prefixes the
/// meter name, keeps <c>_count</c> suffixes on gauges and exports observable counters as gauges,
/// which <c>promtool check metrics</c> rejects.
/// <list type="bullet">
/// <item><c>Headscale</c>: the instrument name is the base name; <c>Headscale.Derp</c>: prefixed with <c>headscale_derp_</c>.</item>
/// <item><c>System.Runtime</c>: a chosen few, renamed (<see cref="RuntimeNames"/>).</item>
/// <item><c>Npgsql</c>: <c>db.client.*</c> becomes <c>headscale_db_*</c> (connection pool usage; <c>db.client.connection.count</c> is <c>headscale_db_connections</c>).</item>
/// </list>
/// Counters get <c>_total</c>, <c>By</c> units <c>_bytes</c>, <c>s</c> units <c>_seconds</c>. Label
/// names are the tag keys of an instrument's first measurement; later measurements are mapped onto
/// them (a missing key becomes an empty value), so each instrument must keep one set of keys.
/// </summary>
public sealed class MeterExporter : IDisposable
{
    private static readonly Dictionary<string, string> RuntimeNames = new(StringComparer.Ordinal)
    {
        ["dotnet.gc.collections"] = "dotnet_gc_collections_total",
        ["dotnet.gc.heap.total_allocated"] = "dotnet_gc_heap_allocated_bytes_total",
        ["dotnet.gc.pause.time"] = "dotnet_gc_pause_seconds_total",
        // As of the last collection: memory the GC holds from the OS, per-generation heap size, and free space inside it.
        ["dotnet.gc.last_collection.memory.committed_size"] = "dotnet_gc_committed_bytes",
        ["dotnet.gc.last_collection.heap.size"] = "dotnet_gc_heap_size_bytes",
        ["dotnet.gc.last_collection.heap.fragmentation.size"] = "dotnet_gc_heap_fragmentation_bytes",
        ["dotnet.thread_pool.thread.count"] = "dotnet_threadpool_threads",
        ["dotnet.thread_pool.queue.length"] = "dotnet_threadpool_queue_length",
        ["dotnet.thread_pool.work_item.count"] = "dotnet_threadpool_work_items_completed_total",
        ["dotnet.monitor.lock_contentions"] = "dotnet_monitor_lock_contentions_total",
        ["dotnet.exceptions"] = "dotnet_exceptions_total",
        ["dotnet.timer.count"] = "dotnet_timers",
        ["dotnet.assembly.count"] = "dotnet_assemblies_loaded",
    };

    private static readonly double[] SecondsBuckets = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
    private static readonly double[] ByteBuckets = Histogram.ExponentialBuckets(64, 4, 10);

    private readonly MeterListener _listener = new();
    private readonly CollectorRegistry _registry;
    private readonly IMetricFactory _factory;
    private readonly ConcurrentDictionary<Instrument, Exported> _exported = new();

    public MeterExporter(CollectorRegistry registry)
    {
        _registry = registry;
        _factory = Metrics.WithCustomRegistry(registry);
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (PrometheusName(instrument) is { } name)
            {
                _exported[instrument] = new Exported(name, instrument);
                listener.EnableMeasurementEvents(instrument, _exported[instrument]);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, state) => ((Exported)state!).Record(_factory, value, tags));
        _listener.SetMeasurementEventCallback<int>((_, value, tags, state) => ((Exported)state!).Record(_factory, value, tags));
        _listener.SetMeasurementEventCallback<double>((_, value, tags, state) => ((Exported)state!).Record(_factory, value, tags));
        _listener.Start();
        registry.AddBeforeCollectCallback(_listener.RecordObservableInstruments);
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>The exported name, or null for instruments we do not export.</summary>
    public static string? PrometheusName(Instrument instrument)
    {
        var meter = instrument.Meter.Name;
        string? baseName = meter switch
        {
            Headscale.Actors.Observability.HeadscaleMetrics.MeterName => Sanitize(instrument.Name),
            // The DERP library names its instruments without a product prefix (it may be hosted elsewhere).
            Headscale.Derp.Server.DerpMetrics.MeterName => instrument.Name.StartsWith("headscale_derp_", StringComparison.Ordinal)
                ? Sanitize(instrument.Name)
                : "headscale_derp_" + Sanitize(instrument.Name),
            "System.Runtime" => RuntimeNames.GetValueOrDefault(instrument.Name),
            // "connection_count" would lose its _count to promtool's rule for gauges; this is the pool's connections by state.
            "Npgsql" when instrument.Name == "db.client.connection.count" => "headscale_db_connections",
            "Npgsql" when instrument.Name.StartsWith("db.client.", StringComparison.Ordinal) =>
                "headscale_db_" + Sanitize(instrument.Name["db.client.".Length..]),
            _ => null,
        };
        if (baseName is null)
        {
            return null;
        }

        if (meter == "System.Runtime")
        {
            // The chosen name says the type: the runtime publishes some levels (thread count, queue
            // length) as observable counters, which must not become Prometheus counters.
            return baseName;
        }

        var isCounter = IsCounter(instrument);
        var isHistogram = instrument is Histogram<double> or Histogram<long> or Histogram<int>;
        if (baseName.EndsWith("_total", StringComparison.Ordinal))
        {
            return baseName;
        }

        if (!isHistogram && baseName.EndsWith("_count", StringComparison.Ordinal))
        {
            baseName = baseName[..^"_count".Length] + "_number";
        }

        if (instrument.Unit == "By" && !baseName.Contains("bytes", StringComparison.Ordinal))
        {
            baseName += "_bytes";
        }
        else if (instrument.Unit is "s" && !baseName.EndsWith("_seconds", StringComparison.Ordinal))
        {
            baseName += "_seconds";
        }

        return isCounter ? baseName + "_total" : baseName;
    }

    private static bool IsCounter(Instrument instrument)
    {
        var type = instrument.GetType();
        if (!type.IsGenericType)
        {
            return false;
        }

        var definition = type.GetGenericTypeDefinition();
        return definition == typeof(Counter<>) || definition == typeof(ObservableCounter<>);
    }

    private static string Sanitize(string name) => name.Replace('.', '_').Replace('-', '_').ToLowerInvariant();

    /// <summary>One exported instrument: its Prometheus metric, created at the first measurement.</summary>
    private sealed class Exported(string name, Instrument instrument)
    {
        /// <summary>Distinct tag sets remembered per instrument; beyond that a measurement looks its child up each time.</summary>
        private const int MaxRememberedTagSets = 64;

        private readonly object _gate = new();
        private string[]? _labelNames;
        private volatile Collector? _metric;

        /// <summary>
        /// The labelled child of each tag set seen, so a measurement whose tags were seen before (nearly all of them:
        /// one per map frame sent) finds its child without building label strings. Replaced whole when one is added.
        /// </summary>
        private volatile TaggedChild[] _children = [];

        public void Record(IMetricFactory factory, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var metric = _metric ?? Create(factory, tags);
            var child = _labelNames!.Length == 0 ? metric : ChildFor(metric, tags);
            switch (child)
            {
                case ICounter counter when instrument.IsObservable:
                    counter.IncTo(value);
                    break;
                case ICounter counter:
                    counter.Inc(value);
                    break;
                case IGauge gauge when instrument.IsObservable:
                    gauge.Set(value);
                    break;
                case IGauge gauge:
                    gauge.Inc(value);
                    break;
                case IHistogram histogram:
                    histogram.Observe(value);
                    break;
            }
        }

        private object ChildFor(Collector metric, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            foreach (var known in _children)
            {
                if (known.Matches(tags))
                {
                    return known.Child;
                }
            }

            var labels = LabelValues(tags);
            object child = metric switch
            {
                Prometheus.Counter counter => counter.WithLabels(labels),
                Prometheus.Gauge gauge => gauge.WithLabels(labels),
                Prometheus.Histogram histogram => histogram.WithLabels(labels),
                _ => metric,
            };
            lock (_gate)
            {
                var children = _children;
                if (children.Length < MaxRememberedTagSets)
                {
                    _children = [.. children, new TaggedChild(tags.ToArray(), child)];
                }
            }

            return child;
        }

        private string[] LabelValues(ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var values = new string[_labelNames!.Length];
            Array.Fill(values, "");
            foreach (var tag in tags)
            {
                var index = Array.IndexOf(_labelNames, Sanitize(tag.Key));
                if (index >= 0)
                {
                    values[index] = tag.Value as string ?? Convert.ToString(tag.Value, System.Globalization.CultureInfo.InvariantCulture) ?? "";
                }
            }

            return values;
        }

        /// <summary>A tag set as it was measured (keys, order and values) and the child its labels select.</summary>
        private sealed class TaggedChild(KeyValuePair<string, object?>[] tags, object child)
        {
            public object Child { get; } = child;

            public bool Matches(ReadOnlySpan<KeyValuePair<string, object?>> measured)
            {
                if (measured.Length != tags.Length)
                {
                    return false;
                }

                for (var i = 0; i < tags.Length; i++)
                {
                    if (!string.Equals(measured[i].Key, tags[i].Key, StringComparison.Ordinal) || !Equals(measured[i].Value, tags[i].Value))
                    {
                        return false;
                    }
                }

                return true;
            }
        }

        private Collector Create(IMetricFactory factory, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var labelNames = new string[tags.Length];
            for (var i = 0; i < tags.Length; i++)
            {
                labelNames[i] = Sanitize(tags[i].Key);
            }

            Array.Sort(labelNames, StringComparer.Ordinal);
            lock (_gate)
            {
                if (_metric is not null)
                {
                    return _metric;
                }

                var help = string.IsNullOrEmpty(instrument.Description) ? instrument.Name : instrument.Description;
                _labelNames = labelNames;
                Collector metric = instrument switch
                {
                    _ when name.EndsWith("_total", StringComparison.Ordinal) && IsCounter(instrument) =>
                        factory.CreateCounter(name, help, labelNames),
                    Histogram<double> or Histogram<long> or Histogram<int> => factory.CreateHistogram(name, help, new HistogramConfiguration
                    {
                        LabelNames = labelNames,
                        Buckets = instrument.Unit switch { "s" => SecondsBuckets, "By" => ByteBuckets, _ => SecondsBuckets },
                    }),
                    _ => factory.CreateGauge(name, help, labelNames),
                };
                _metric = metric;
                return metric;
            }
        }
    }
}
