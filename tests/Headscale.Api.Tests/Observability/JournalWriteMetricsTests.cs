using System.Collections.Immutable;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Text;
using Akka.Actor;
using Headscale.Actors;
using Headscale.Actors.Hosting;
using Headscale.Actors.Observability;
using Headscale.Actors.Persistence;
using Headscale.Actors.Users;
using Headscale.Api.Observability;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Prometheus;
using Xunit;

namespace Headscale.Api.Tests.Observability;

/// <summary>
/// Journal writes are timed and their failures counted by the journal itself, for every outcome a
/// write can have, and the production wiring really uses the measuring journal.
/// </summary>
public sealed class JournalWriteMetricsTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    /// <summary>
    /// Instruments of the test's own meter, so writes of other tests running at the same time
    /// cannot change what a test counts.
    /// </summary>
    private sealed class TestInstruments : IDisposable
    {
        private readonly Meter _meter = new("Headscale.Tests.Journal." + Guid.NewGuid().ToString("N"));

        public TestInstruments()
        {
            Duration = _meter.CreateHistogram<double>("journal_write_duration", "s");
            Failures = _meter.CreateCounter<long>("journal_write_failures");
        }

        public Histogram<double> Duration { get; }

        public Counter<long> Failures { get; }

        public void Dispose() => _meter.Dispose();
    }

    /// <summary>Measurements of one histogram and one failure counter.</summary>
    private sealed class JournalMeasurements : IDisposable
    {
        private readonly MeterListener _listener = new();
        private readonly List<double> _durations = [];
        private readonly Dictionary<string, long> _failures = new(StringComparer.Ordinal);

        public JournalMeasurements(Instrument duration, Instrument failures)
        {
            _listener.InstrumentPublished = (instrument, listener) =>
            {
                if (instrument == duration || instrument == failures)
                {
                    listener.EnableMeasurementEvents(instrument);
                }
            };
            _listener.SetMeasurementEventCallback<double>((_, value, _, _) =>
            {
                lock (_durations)
                {
                    _durations.Add(value);
                }
            });
            _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
            {
                var reason = tags.ToArray().Single(t => t.Key == "reason").Value as string ?? "";
                lock (_durations)
                {
                    _failures[reason] = _failures.GetValueOrDefault(reason) + value;
                }
            });
            _listener.Start();
        }

        public int Durations
        {
            get
            {
                lock (_durations)
                {
                    return _durations.Count;
                }
            }
        }

        public long Failures(string reason)
        {
            lock (_durations)
            {
                return _failures.GetValueOrDefault(reason);
            }
        }

        public void Dispose() => _listener.Dispose();
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(10));
        while (!condition())
        {
            try
            {
                await Task.Delay(10, timeout.Token);
            }
            catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
            {
                Assert.Fail("timed out waiting until " + what);
            }
        }
    }

    private static Task<IImmutableList<Exception>> Stored() => Task.FromResult<IImmutableList<Exception>>(null!);

    [Fact]
    public void A_stored_batch_is_timed_and_counts_no_failure()
    {
        using var instruments = new TestInstruments();
        using var seen = new JournalMeasurements(instruments.Duration, instruments.Failures);

        JournalWriteMetrics.Observe(Stored(), 3, Stopwatch.GetTimestamp(), instruments.Duration, instruments.Failures);
        JournalWriteMetrics.Observe(Task.FromResult<IImmutableList<Exception>>([null!, null!]), 2, Stopwatch.GetTimestamp(), instruments.Duration, instruments.Failures);

        Assert.Equal(2, seen.Durations);
        Assert.Equal(0, seen.Failures(JournalWriteMetrics.Failed));
        Assert.Equal(0, seen.Failures(JournalWriteMetrics.Rejected));
    }

    [Fact]
    public void Rejected_writes_are_counted_one_by_one_and_a_failed_batch_counts_all_its_writes()
    {
        using var instruments = new TestInstruments();
        using var seen = new JournalMeasurements(instruments.Duration, instruments.Failures);

        JournalWriteMetrics.Observe(Task.FromResult<IImmutableList<Exception>>([null!, new InvalidOperationException("bad payload"), new ArgumentException("too long")]), 3, Stopwatch.GetTimestamp(), instruments.Duration, instruments.Failures);
        JournalWriteMetrics.Observe(Task.FromException<IImmutableList<Exception>>(new TimeoutException("database gone")), 4, Stopwatch.GetTimestamp(), instruments.Duration, instruments.Failures);
        JournalWriteMetrics.Observe(Task.FromCanceled<IImmutableList<Exception>>(new CancellationToken(canceled: true)), 1, Stopwatch.GetTimestamp(), instruments.Duration, instruments.Failures);

        Assert.Equal(3, seen.Durations);
        Assert.Equal(2, seen.Failures(JournalWriteMetrics.Rejected));
        Assert.Equal(5, seen.Failures(JournalWriteMetrics.Failed));
    }

    [Fact]
    public async Task A_pending_write_is_recorded_when_the_database_answers()
    {
        using var instruments = new TestInstruments();
        using var seen = new JournalMeasurements(instruments.Duration, instruments.Failures);
        var write = new TaskCompletionSource<IImmutableList<Exception>>(TaskCreationOptions.RunContinuationsAsynchronously);

        JournalWriteMetrics.Observe(write.Task, 2, Stopwatch.GetTimestamp(), instruments.Duration, instruments.Failures);
        Assert.Equal(0, seen.Durations);
        write.SetException(new InvalidOperationException("connection reset"));

        // The continuation runs on the thread pool: wait for it rather than for a fixed time.
        await WaitUntilAsync(() => seen.Failures(JournalWriteMetrics.Failed) == 2, "the failed write is counted");
        Assert.Equal(1, seen.Durations);
    }

    [Fact]
    public async Task Both_failure_series_are_exported_at_zero_before_the_first_failure()
    {
        var registry = Metrics.NewCustomRegistry();
        using var exporter = new MeterExporter(registry);

        JournalWriteMetrics.Initialize();
        using var stream = new MemoryStream();
        await registry.CollectAndExportAsTextAsync(stream, Ct);
        var text = Encoding.UTF8.GetString(stream.ToArray());

        Assert.Contains("# TYPE headscale_journal_write_failures_total counter", text);
        Assert.Contains("headscale_journal_write_failures_total{reason=\"failed\"}", text);
        Assert.Contains("headscale_journal_write_failures_total{reason=\"rejected\"}", text);
    }

    [Fact]
    public async Task The_production_journal_is_the_measuring_one_and_a_stored_event_is_timed()
    {
        var directory = Directory.CreateTempSubdirectory("hs-journal-metrics-").FullName;
        try
        {
            using var host = new HostBuilder()
                .ConfigureServices(services => services.AddHeadscaleActors(new HeadscaleActorsOptions
                {
                    Database = new DatabaseSettings { Kind = DatabaseKind.Sqlite, SqlitePath = Path.Combine(directory, "journal.db") },
                    Domain = new DomainSettings { BcryptWorkFactor = 4 },
                }))
                .Build();
            await host.Services.GetRequiredService<JournalDatabase>().PrepareAsync(Ct);
            await host.StartAsync(Ct);
            using var seen = new JournalMeasurements(HeadscaleMetrics.JournalWriteDuration, HeadscaleMetrics.JournalWriteFailures);
            var before = seen.Durations;

            var config = host.Services.GetRequiredService<ActorSystem>().Settings.Config;
            Assert.Equal(typeof(MeasuredSqlWriteJournal), Type.GetType(config.GetString("akka.persistence.journal.sql.class")));
            var created = await host.Services.GetRequiredService<IUserService>()
                .CreateAsync("journal-metrics", "", "", DateTimeOffset.UtcNow, Cause.Cli("users create"), Ct);
            Assert.NotNull(created.User);

            // The user directory answers once its event is stored; the measurement follows the same completion.
            await WaitUntilAsync(() => seen.Durations > before, "the user's journal write is timed");
            await host.StopAsync(Ct);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
