using System.IO.Pipelines;
using Headscale.Protocol.Noise;

namespace Headscale.Protocol.Client;

/// <summary>
/// Wraps the plaintext reader: the first read checks for the early payload and removes it. This happens lazily, because the
/// client must be able to send its HTTP/2 preface before any server bytes arrive (the server may send no early payload).
/// </summary>
internal sealed class EarlyPayloadStrippingReader(PipeReader inner, TaskCompletionSource<EarlyNoise?> earlyNoise) : PipeReader
{
    private bool _checked;

    public override async ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default)
    {
        if (!_checked)
        {
            await StripEarlyPayloadAsync(cancellationToken).ConfigureAwait(false);
        }

        return await inner.ReadAsync(cancellationToken).ConfigureAwait(false);
    }

    private async Task StripEarlyPayloadAsync(CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                var result = await inner.ReadAsync(cancellationToken).ConfigureAwait(false);
                var buffer = result.Buffer;
                if (buffer.Length >= EarlyPayload.HeaderSize && !EarlyPayload.IsEarlyPayload(buffer))
                {
                    inner.AdvanceTo(buffer.Start);
                    earlyNoise.TrySetResult(null);
                    break;
                }

                if (buffer.Length >= EarlyPayload.HeaderSize && EarlyPayload.TryRead(ref buffer, out var payload))
                {
                    inner.AdvanceTo(buffer.Start);
                    earlyNoise.TrySetResult(payload);
                    break;
                }

                if (result.IsCompleted || result.IsCanceled)
                {
                    inner.AdvanceTo(buffer.Start);
                    earlyNoise.TrySetResult(null);
                    break;
                }

                inner.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            earlyNoise.TrySetException(ex);
            throw;
        }

        _checked = true;
    }

    public override bool TryRead(out ReadResult result)
    {
        if (!_checked)
        {
            result = default;
            return false;
        }

        return inner.TryRead(out result);
    }

    public override void AdvanceTo(SequencePosition consumed) => inner.AdvanceTo(consumed);

    public override void AdvanceTo(SequencePosition consumed, SequencePosition examined) => inner.AdvanceTo(consumed, examined);

    public override void CancelPendingRead() => inner.CancelPendingRead();

    public override void Complete(Exception? exception = null) => inner.Complete(exception);

    public override ValueTask CompleteAsync(Exception? exception = null) => inner.CompleteAsync(exception);
}
