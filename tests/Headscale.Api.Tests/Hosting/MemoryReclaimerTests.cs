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

        Assert.True(MemoryReclaimer.ShouldReclaim(previous, now, baselineCommittedBytes: 200 * MiB, LongAgo));
    }

    [Fact]
    public void A_server_still_allocating_fast_does_not_reclaim_mid_storm()
    {
        var previous = new Sample(420 * MiB, 350 * MiB, 10_000 * MiB);
        var now = previous with { AllocatedBytes = previous.AllocatedBytes + MemoryReclaimer.QuietAllocationBytes };

        Assert.False(MemoryReclaimer.ShouldReclaim(previous, now, baselineCommittedBytes: 200 * MiB, LongAgo));
    }

    [Theory]
    [InlineData(250, 200)] // grew 50 MiB: under the 64 MiB floor
    [InlineData(1_400, 1_000)] // grew 400 MiB from 1 GiB: under half
    public void Growth_too_small_to_be_worth_a_pause_is_kept(long committedMiB, long baselineMiB)
    {
        var sample = new Sample(committedMiB * MiB, committedMiB * MiB, 0);

        Assert.False(MemoryReclaimer.ShouldReclaim(sample, sample, baselineMiB * MiB, LongAgo));
    }

    [Fact]
    public void At_most_one_reclaim_per_spacing()
    {
        var sample = new Sample(420 * MiB, 200 * MiB, 0);

        Assert.False(MemoryReclaimer.ShouldReclaim(sample, sample, 200 * MiB, MemoryReclaimer.MinimumSpacing - TimeSpan.FromSeconds(1)));
        Assert.True(MemoryReclaimer.ShouldReclaim(sample, sample, 200 * MiB, MemoryReclaimer.MinimumSpacing));
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
    private static async Task<int> CollectionsOverTwentyChecksAsync(Func<int, Sample> sampleAt)
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

                return sampleAt(check);
            },
            () => Interlocked.Increment(ref collected));

        await reclaimer.StartAsync(TestContext.Current.CancellationToken);
        await enoughChecks.Task.WaitAsync(TimeSpan.FromSeconds(30), TestContext.Current.CancellationToken);
        await reclaimer.StopAsync(TestContext.Current.CancellationToken);
        return Volatile.Read(ref collected);
    }
}
