using System.Buffers.Binary;
using System.Diagnostics;
using Headscale.Derp.Keys;
using Headscale.Derp.Protocol;

namespace Headscale.Bench.Derp;

/// <summary>Result of one load run: delivered packets per second, loss and one-way latency percentiles.</summary>
internal sealed record LoadResult(double PacketsPerSecond, long Sent, long Received, double P50Microseconds, double P99Microseconds)
{
    public double LossPercent => Sent == 0 ? 0 : 100.0 * (Sent - Received) / Sent;
}

/// <summary>
/// Drives sender → receiver pairs. Each sender keeps at most <c>window</c> packets in flight (the receiver gives credit
/// back), so a relay that keeps up never drops; a packet carries its send timestamp and the receiver records one-way
/// latency (same process, same clock) for every 4th packet while measuring.
/// </summary>
internal static class RelayLoad
{
    private const int SampleEvery = 4;

    public static async Task<LoadResult> RunAsync(IReadOnlyList<(BenchConnection Sender, BenchConnection Receiver)> pairs, int payloadSize,
        int window, TimeSpan warmUp, TimeSpan measure)
    {
        using var stop = new CancellationTokenSource();
        var flows = pairs.Select(p => new Flow(p.Sender, p.Receiver, payloadSize, window)).ToArray();
        var receivers = flows.Select(f => Task.Run(() => f.ReceiveLoopAsync(stop.Token))).ToArray();
        var senders = flows.Select(f => Task.Run(() => f.SendLoopAsync(stop.Token))).ToArray();

        await Task.Delay(warmUp);
        foreach (var flow in flows) flow.Measuring = true;
        var startReceived = flows.Sum(f => Volatile.Read(ref f.Received));
        var started = Stopwatch.GetTimestamp();
        await Task.Delay(measure);
        var endReceived = flows.Sum(f => Volatile.Read(ref f.Received));
        var elapsed = Stopwatch.GetElapsedTime(started);
        foreach (var flow in flows) flow.Measuring = false;

        foreach (var flow in flows) flow.StopSending();
        await Task.WhenAll(senders);
        // Let packets in flight arrive before counting loss.
        var drainDeadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency * 2;
        while (flows.Sum(f => Volatile.Read(ref f.Received)) < flows.Sum(f => f.Sent) && Stopwatch.GetTimestamp() < drainDeadline)
            await Task.Delay(10);
        await stop.CancelAsync();
        await Task.WhenAll(receivers);

        var samples = flows.SelectMany(f => f.Samples.Take(f.SampleCount)).ToArray();
        Array.Sort(samples);
        double Percentile(double p) => samples.Length == 0 ? double.NaN
            : samples[Math.Min(samples.Length - 1, (int)(p * samples.Length))] * 1e6 / Stopwatch.Frequency;
        return new LoadResult((endReceived - startReceived) / elapsed.TotalSeconds, flows.Sum(f => f.Sent),
            flows.Sum(f => Volatile.Read(ref f.Received)), Percentile(0.50), Percentile(0.99));
    }

    private sealed class Flow(BenchConnection sender, BenchConnection receiver, int payloadSize, int window)
    {
        private readonly SemaphoreSlim _credit = new(window);
        private volatile bool _sending = true;
        public long Sent;
        public long Received;
        public volatile bool Measuring;
        public readonly long[] Samples = new long[1 << 18];
        public int SampleCount;

        public void StopSending()
        {
            _sending = false;
            _credit.Release();
        }

        public async Task SendLoopAsync(CancellationToken cancellationToken)
        {
            var frame = new byte[DerpConstants.FrameHeaderLength + DerpPublicKey.Length + payloadSize];
            DerpFrameWriter.WriteHeader(frame, DerpFrameType.SendPacket, DerpPublicKey.Length + payloadSize);
            receiver.Key.CopyTo(frame.AsSpan(DerpConstants.FrameHeaderLength));
            var packet = DerpConstants.FrameHeaderLength + DerpPublicKey.Length;
            try
            {
                while (true)
                {
                    await _credit.WaitAsync(cancellationToken);
                    if (!_sending) return;
                    BinaryPrimitives.WriteInt64LittleEndian(frame.AsSpan(packet), Stopwatch.GetTimestamp());
                    await sender.Stream.WriteAsync(frame, cancellationToken);
                    Sent++;
                }
            }
            catch (OperationCanceledException)
            {
            }
        }

        public async Task ReceiveLoopAsync(CancellationToken cancellationToken)
        {
            var buffer = new byte[256 << 10];
            int start = 0, end = 0;
            var header = DerpConstants.FrameHeaderLength;
            try
            {
                while (true)
                {
                    if (buffer.Length - end < header + DerpPublicKey.Length + payloadSize)
                    {
                        buffer.AsSpan(start, end - start).CopyTo(buffer);
                        end -= start;
                        start = 0;
                    }
                    var read = await receiver.Stream.ReadAsync(buffer.AsMemory(end), cancellationToken);
                    if (read == 0) return;
                    end += read;
                    var now = Stopwatch.GetTimestamp();
                    while (end - start >= header)
                    {
                        var length = (int)BinaryPrimitives.ReadUInt32BigEndian(buffer.AsSpan(start + 1));
                        if (end - start < header + length) break;
                        var type = (DerpFrameType)buffer[start];
                        // DERP delivers RecvPacket(source key + packet); the raw forwarder passes our SendPacket through.
                        if (type is DerpFrameType.RecvPacket or DerpFrameType.SendPacket)
                        {
                            var sentAt = BinaryPrimitives.ReadInt64LittleEndian(buffer.AsSpan(start + header + DerpPublicKey.Length));
                            var received = Interlocked.Increment(ref Received);
                            if (Measuring && received % SampleEvery == 0 && SampleCount < Samples.Length)
                                Samples[SampleCount++] = now - sentAt;
                            _credit.Release();
                        }
                        start += header + length;
                    }
                    if (start == end) start = end = 0;
                }
            }
            catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException)
            {
            }
        }
    }
}
