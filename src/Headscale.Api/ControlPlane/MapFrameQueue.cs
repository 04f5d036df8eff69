using System.Runtime.ExceptionServices;
using System.Threading.Channels;
using System.Threading.Tasks.Sources;
using Headscale.Protocol.Tailcfg;

namespace Headscale.Api.ControlPlane;

/// <summary>
/// The frames between one map session actor (the writer) and its stream (the one reader): bounded like the channel it
/// replaces (a full queue refuses, and the writer can wait for room), but small while idle, which a streaming poll is
/// for hours: a ring that starts at four slots and shrinks back once drained, one reusable wait for the reader, and a
/// wait for the writer made only when it is behind. A bounded channel kept about 0.8 KiB per session (its grown
/// buffer, two cached waits, the async enumerator). As with the channel before, a writer's frame wakes the waiting
/// reader on the writer's own thread.
/// </summary>
public sealed class MapFrameQueue : ChannelWriter<MapFrame>, IValueTaskSource<bool>
{
    private const int InitialSlots = 4;

    private readonly int _capacity;
    private MapFrame[] _ring = new MapFrame[InitialSlots];
    private int _head;
    private int _count;
    private bool _completed;
    private Exception? _error;
    private CancellationToken _readerCanceled;
    private ManualResetValueTaskSourceCore<bool> _readWait;
    private bool _readerWaiting;
    private TaskCompletionSource<bool>? _writeWait;

    public MapFrameQueue(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _capacity = capacity;
    }

    /// <summary>Frames queued now.</summary>
    public int Count
    {
        get
        {
            lock (this)
            {
                return _count;
            }
        }
    }

    /// <summary>Slots the ring has now (it grows with a backlog and shrinks once drained).</summary>
    internal int Slots
    {
        get
        {
            lock (this)
            {
                return _ring.Length;
            }
        }
    }

    public override bool TryWrite(MapFrame item)
    {
        lock (this)
        {
            if (_completed || _count == _capacity)
            {
                return false;
            }

            if (_count == _ring.Length)
            {
                Resize(Math.Min(_ring.Length * 2, _capacity));
            }

            _ring[(_head + _count) % _ring.Length] = item;
            _count++;
            if (!_readerWaiting)
            {
                return true;
            }

            _readerWaiting = false;
        }

        _readWait.SetResult(true);
        return true;
    }

    public override ValueTask<bool> WaitToWriteAsync(CancellationToken cancellationToken = default)
    {
        lock (this)
        {
            if (_completed)
            {
                return new ValueTask<bool>(false);
            }

            if (_count < _capacity)
            {
                return new ValueTask<bool>(true);
            }

            _writeWait ??= new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            return new ValueTask<bool>(_writeWait.Task.WaitAsync(cancellationToken));
        }
    }

    public override bool TryComplete(Exception? error = null)
    {
        TaskCompletionSource<bool>? writer;
        bool wakeReader;
        lock (this)
        {
            if (_completed)
            {
                return false;
            }

            _completed = true;
            _error = error;
            writer = _writeWait;
            _writeWait = null;
            wakeReader = _readerWaiting;
            _readerWaiting = false;
        }

        writer?.TrySetResult(false);
        if (wakeReader)
        {
            _readWait.SetResult(false);
        }

        return true;
    }

    /// <summary>Takes the oldest frame, if any.</summary>
    public bool TryRead(out MapFrame frame)
    {
        TaskCompletionSource<bool>? writer = null;
        lock (this)
        {
            if (_count == 0)
            {
                frame = default;
                return false;
            }

            frame = _ring[_head];
            _ring[_head] = default;
            _head = (_head + 1) % _ring.Length;
            _count--;
            if (_count == 0)
            {
                _head = 0;
                if (_ring.Length > InitialSlots)
                {
                    _ring = new MapFrame[InitialSlots];
                }
            }

            if (_writeWait is not null)
            {
                writer = _writeWait;
                _writeWait = null;
            }
        }

        writer?.TrySetResult(true);
        return true;
    }

    /// <summary>
    /// Ends the reader's wait (now or the next) with an <see cref="OperationCanceledException"/> for
    /// <paramref name="token"/>; the writer is not told (its frames are simply not read).
    /// </summary>
    public void CancelReader(CancellationToken token)
    {
        bool wakeReader;
        lock (this)
        {
            _readerCanceled = token.IsCancellationRequested ? token : new CancellationToken(canceled: true);
            wakeReader = _readerWaiting;
            _readerWaiting = false;
        }

        if (wakeReader)
        {
            _readWait.SetResult(false);
        }
    }

    /// <summary>
    /// True once a frame can be read; false when the writer completed the queue and every frame was read; throws the
    /// writer's error instead when it completed with one. One reader only: a second wait while one is pending throws.
    /// </summary>
    public ValueTask<bool> WaitToReadAsync()
    {
        lock (this)
        {
            _readerCanceled.ThrowIfCancellationRequested();
            if (_count > 0)
            {
                return new ValueTask<bool>(true);
            }

            if (_completed)
            {
                if (_error is not null)
                {
                    ExceptionDispatchInfo.Throw(_error);
                }

                return new ValueTask<bool>(false);
            }

            if (_readerWaiting)
            {
                throw new InvalidOperationException("The map frame queue has one reader, which is waiting already.");
            }

            _readWait.Reset();
            _readerWaiting = true;
            return new ValueTask<bool>(this, _readWait.Version);
        }
    }

    private void Resize(int slots)
    {
        var resized = new MapFrame[slots];
        for (var i = 0; i < _count; i++)
        {
            resized[i] = _ring[(_head + i) % _ring.Length];
        }

        _ring = resized;
        _head = 0;
    }

    bool IValueTaskSource<bool>.GetResult(short token)
    {
        var readable = _readWait.GetResult(token);
        if (readable)
        {
            return true;
        }

        // Woken by completion or cancellation: frames written before a completion are still read first.
        lock (this)
        {
            _readerCanceled.ThrowIfCancellationRequested();
            if (_count > 0)
            {
                return true;
            }

            if (_error is not null)
            {
                ExceptionDispatchInfo.Throw(_error);
            }

            return false;
        }
    }

    ValueTaskSourceStatus IValueTaskSource<bool>.GetStatus(short token) => _readWait.GetStatus(token);

    void IValueTaskSource<bool>.OnCompleted(Action<object?> continuation, object? state, short token, ValueTaskSourceOnCompletedFlags flags) =>
        _readWait.OnCompleted(continuation, state, token, flags);
}
