using Headscale.Api.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit;
using Sample = Headscale.Api.Hosting.MemoryReclaimer.MemorySample;

namespace Headscale.Api.Tests.Hosting;

public sealed class MemoryReclaimerTests
{
    private const long MiB = 1L << 20;
    private static readonly TimeSpan LongAgo = TimeSpan.FromHours(1);

    [Fact]
    public void A_quiet_server_whose_collector_grew_by_half_reclaims()
    {
        var previous = new Sample(420 * MiB, 350 * MiB, 10_000 * MiB);
        var now = previous with { AllocatedBytes = previous.AllocatedBytes + (10 * MiB) };

        Assert.True(MemoryReclaimer.ShouldReclaim(previous, now, baselineCommittedBytes: 200 * MiB, LongAgo, MemoryReclaimer.MinimumSpacing));
    }

    [Fact]
    public void A_server_still_allocating_fast_does_not_reclaim_mid_storm()
    {
        var previous = new Sample(420 * MiB, 350 * MiB, 10_000 * MiB);
        var now = previous with { AllocatedBytes = previous.AllocatedBytes + MemoryReclaimer.QuietAllocationBytes };

        Assert.False(MemoryReclaimer.ShouldReclaim(previous, now, baselineCommittedBytes: 200 * MiB, LongAgo, MemoryReclaimer.MinimumSpacing));
    }

    [Theory]
    [InlineData(250, 200)] // grew 50 MiB: under the 64 MiB floor
    [InlineData(1_400, 1_000)] // grew 400 MiB from 1 GiB: under half
    public void Growth_too_small_to_be_worth_a_pause_is_kept(long committedMiB, long baselineMiB)
    {
        var sample = new Sample(committedMiB * MiB, committedMiB * MiB, 0);

        Assert.False(MemoryReclaimer.ShouldReclaim(sample, sample, baselineMiB * MiB, LongAgo, MemoryReclaimer.MinimumSpacing));
    }

    [Fact]
    public void At_most_one_reclaim_per_spacing()
    {
        var sample = new Sample(420 * MiB, 200 * MiB, 0);
        var spacing = TimeSpan.FromSeconds(45);

        Assert.False(MemoryReclaimer.ShouldReclaim(sample, sample, 200 * MiB, spacing - TimeSpan.FromSeconds(1), spacing));
        Assert.True(MemoryReclaimer.ShouldReclaim(sample, sample, 200 * MiB, spacing, spacing));
    }

    [Theory]
    [InlineData(50, 30)] // a short pause: the floor
    [InlineData(300, 30)] // 100 x 0.3 s is the floor itself
    [InlineData(1_200, 120)] // a long pause keeps the share of time paused at 1%
    public void The_spacing_after_a_collection_grows_with_its_pause(int pauseMs, int expectedSeconds)
    {
        Assert.Equal(TimeSpan.FromSeconds(expectedSeconds), MemoryReclaimer.SpacingAfter(TimeSpan.FromMilliseconds(pauseMs)));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-10)]
    public void A_check_interval_that_is_not_positive_is_refused(int milliseconds)
    {
        var refused = Assert.Throws<ArgumentOutOfRangeException>(() => new MemoryReclaimer(
            NullLogger<MemoryReclaimer>.Instance, TimeProvider.System, TimeSpan.FromMilliseconds(milliseconds), () => default, () => { }));

        Assert.Equal("checkInterval", refused.ParamName);
    }

    [Fact]
    public async Task Each_collection_is_counted_with_its_pause_and_what_it_gave_back()
    {
        long reclaims = 0;
        long releasedBytes = 0;
        var pauses = 0;
        using var listener = new System.Diagnostics.Metrics.MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Name.StartsWith("headscale_memory_reclaim", StringComparison.Ordinal))
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (instrument.Name == "headscale_memory_reclaims")
            {
                Interlocked.Add(ref reclaims, value);
            }
            else if (instrument.Name == "headscale_memory_reclaimed_bytes")
            {
                Interlocked.Add(ref releasedBytes, value);
            }
        });
        listener.SetMeasurementEventCallback<double>((instrument, _, _, _) =>
        {
            if (instrument.Name == "headscale_memory_reclaim_pause_seconds")
            {
                Interlocked.Increment(ref pauses);
            }
        });
        listener.Start();

        // 420 MiB committed before the collection, 230 MiB after it.
        var collectedAlready = 0;
        var collected = await CollectionsOverTwentyChecksAsync(
            _ => new Sample(Volatile.Read(ref collectedAlready) == 0 ? 420 * MiB : 230 * MiB, 200 * MiB, 0),
            baselineCommitted: 200 * MiB,
            onCollect: () => Interlocked.Exchange(ref collectedAlready, 1));

        Assert.Equal(1, collected);
        Assert.True(Interlocked.Read(ref reclaims) >= 1);
        Assert.True(Volatile.Read(ref pauses) >= 1);
        Assert.True(Interlocked.Read(ref releasedBytes) >= 190 * MiB);
    }

    [Fact]
    public async Task The_service_collects_once_when_quiet_and_not_again_within_the_spacing()
    {
        // Started at 200 MiB; then a storm left 420 MiB committed, and nothing more is allocated.
        var collected = await CollectionsOverTwentyChecksAsync(check => new Sample(check == 1 ? 200 * MiB : 420 * MiB, 200 * MiB, 0));

        Assert.Equal(1, collected);
    }

    [Fact]
    public async Task The_service_does_not_collect_while_the_server_keeps_allocating()
    {
        var collected = await CollectionsOverTwentyChecksAsync(
            check => new Sample(check == 1 ? 200 * MiB : 420 * MiB, 200 * MiB, check * MemoryReclaimer.QuietAllocationBytes));

        Assert.Equal(0, collected);
    }

    /// <summary>Runs the service on a 10 ms interval with the given samples (by check number) until 20 checks have run.</summary>
    private static async Task<int> CollectionsOverTwentyChecksAsync(
        Func<int, Sample> sampleAt, long? baselineCommitted = null, Action? onCollect = null)
    {
        var collected = 0;
        var checks = 0;
        var enoughChecks = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var reclaimer = new MemoryReclaimer(
            NullLogger<MemoryReclaimer>.Instance,
            TimeProvider.System,
            TimeSpan.FromMilliseconds(10),
            () =>
            {
                var check = Interlocked.Increment(ref checks);
                if (check >= 20)
                {
                    enoughChecks.TrySetResult();
                }

                return check == 1 && baselineCommitted is { } start ? new Sample(start, start, 0) : sampleAt(check);
            },
            () =>
            {
                onCollect?.Invoke();
                Interlocked.Increment(ref collected);
            });

        await reclaimer.StartAsync(TestContext.Current.CancellationToken);
        await enoughChecks.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        await reclaimer.StopAsync(TestContext.Current.CancellationToken);
        return Volatile.Read(ref collected);
    }
}
