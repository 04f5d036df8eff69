using System.Collections.Concurrent;
using System.Diagnostics;

namespace Headscale.Bench.Map;

/// <summary>Decides from a decompressed MapResponse whether it carries the change being measured.</summary>
internal delegate bool FrameMatcher(ReadOnlySpan<byte> json);

/// <summary>
/// The arrival of one change at every armed session: the first matching frame per session is timed against
/// <see cref="Start"/> (the moment the change was requested).
/// </summary>
internal sealed class FrameWatch(FrameMatcher matcher, int expected)
{
    private readonly ConcurrentDictionary<MapSession, long> _arrivals = new();
    private readonly TaskCompletionSource _all = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _failures;
    private int _received;

    /// <summary>Stopwatch timestamp at which the change was requested; set just before the admin call.</summary>
    public long Start { get; private set; }

    public int Failures => Volatile.Read(ref _failures);

    public int Received => Volatile.Read(ref _received);

    public void MarkStart() => Start = Stopwatch.GetTimestamp();

    public bool HasMatched(MapSession session) => _arrivals.ContainsKey(session);

    public void Offer(MapSession session, ReadOnlySpan<byte> json, long arrived)
    {
        // Counted apart: ConcurrentDictionary.Count takes every lock of the table, and thousands of sessions offer at once.
        if (matcher(json) && _arrivals.TryAdd(session, arrived) && Interlocked.Increment(ref _received) >= expected)
        {
            _all.TrySetResult();
        }
    }

    /// <summary>An armed session's stream broke before the change arrived.</summary>
    public void Fail() => Interlocked.Increment(ref _failures);

    /// <summary>Waits until every expected session matched or <paramref name="timeout"/> passed; returns whether all arrived.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout)
    {
        try
        {
            await _all.Task.WaitAsync(timeout);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    /// <summary>Milliseconds from <see cref="Start"/> to each arrival, sorted ascending.</summary>
    public double[] LatenciesMs() =>
        _arrivals.Values.Select(t => Stopwatch.GetElapsedTime(Start, t).TotalMilliseconds).Order().ToArray();
}
