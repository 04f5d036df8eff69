using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using Headscale.Protocol.Buffers;

namespace Headscale.Protocol.Noise;

/// <summary>Settings of a <see cref="NoiseConnection"/>.</summary>
public sealed record NoiseConnectionOptions
{
    /// <summary>Closes the connection if the peer's first record has not arrived by then (e.g. the client stalls after the handshake).</summary>
    public TimeSpan? FirstRecordTimeout { get; init; }

    /// <summary>
    /// Seal records on the writer's flush, on the flushing thread, instead of in a send loop behind a plaintext pipe:
    /// one thread hop and one pipe fewer per connection. Only for a single writer that awaits each flush (the server's
    /// inner HTTP/2 writes under its own lock).
    /// </summary>
    public bool SealOnFlush { get; init; }

    /// <summary>Options of the two plaintext pipes; the pause threshold bounds the memory one connection may hold.</summary>
    public PipeOptions PlaintextPipeOptions { get; init; } = DefaultPipeOptions;

    public static readonly PipeOptions DefaultPipeOptions = new(
        pauseWriterThreshold: 256 * 1024,
        resumeWriterThreshold: 128 * 1024,
        minimumSegmentSize: 4096,
        useSynchronizationContext: false);
}

/// <summary>
/// The ts2021 transport after the handshake: a duplex plaintext pipe (<see cref="Input"/>, <see cref="Output"/>) over a duplex
/// ciphertext pipe. Two loops translate between them: writes are cut into records of at most 4077 plaintext bytes, and each
/// record read is checked (type 4, at most 4096 bytes, authentic) before its plaintext is passed on. Any violation ends the
/// connection: the plaintext reader sees a <see cref="NoiseProtocolException"/>, and <see cref="Fault"/> says why.
/// </summary>
public sealed class NoiseConnection : IDuplexPipe, IAsyncDisposable
{
    private readonly IDuplexPipe _transport;
    private readonly NoiseRecordCipher _sender;
    private readonly NoiseRecordCipher _receiver;
    private readonly Pipe _incoming;
    private readonly Pipe? _outgoing;
    private readonly SealingWriter? _sealing;
    private readonly CancellationTokenSource _stop = new();
    private readonly TimeSpan? _firstRecordTimeout;
    private Task _loops = Task.CompletedTask;
    private Task _sendLoop = Task.CompletedTask;
    private int _disposed;

    private NoiseConnection(IDuplexPipe transport, NoiseTransportKeys keys, NoiseConnectionOptions options)
    {
        _transport = transport;
        Keys = keys;
        _sender = new NoiseRecordCipher(keys.SendKey.Span);
        _receiver = new NoiseRecordCipher(keys.ReceiveKey.Span);
        _incoming = new Pipe(options.PlaintextPipeOptions);
        if (options.SealOnFlush)
        {
            _sealing = new SealingWriter(_sender, transport.Output);
        }
        else
        {
            _outgoing = new Pipe(options.PlaintextPipeOptions);
        }

        _firstRecordTimeout = options.FirstRecordTimeout;
    }

    /// <summary>Starts the transport on <paramref name="transport"/>, which carries ciphertext right after the handshake.</summary>
    public static NoiseConnection Start(IDuplexPipe transport, NoiseTransportKeys keys, NoiseConnectionOptions? options = null)
    {
        var connection = new NoiseConnection(transport, keys, options ?? new NoiseConnectionOptions());
        connection._sendLoop = connection._sealing?.Completion ?? connection.SendLoopAsync();
        connection._loops = Task.WhenAll(connection.ReceiveLoopAsync(), connection._sendLoop);
        return connection;
    }

    public NoiseTransportKeys Keys { get; }

    /// <summary>Plaintext from the peer.</summary>
    public PipeReader Input => _incoming.Reader;

    /// <summary>Plaintext to the peer.</summary>
    public PipeWriter Output => _sealing ?? _outgoing!.Writer;

    /// <summary>Why the connection broke, if it broke because of the peer (bad record, failed authentication, timeout).</summary>
    public NoiseProtocolException? Fault { get; private set; }

    /// <summary>Completes when both directions have stopped.</summary>
    public Task Completion => _loops;

    /// <summary>
    /// Completes when the sending direction has stopped: after <see cref="Output"/> is completed, once everything written
    /// to it has been sealed and handed to the transport (a last GOAWAY is not lost to an early dispose).
    /// </summary>
    public Task SendCompletion => _sendLoop;

    /// <summary>Records sent and received so far (the nonce counters).</summary>
    public ulong RecordsSent => _sender.Counter;

    public ulong RecordsReceived => _receiver.Counter;

    /// <summary>Whether either direction holds its AEAD's native state now (none between batches); for tests.</summary>
    internal bool HoldsCipherState => _sender.HoldsCipher || _receiver.HoldsCipher;

    private async Task ReceiveLoopAsync()
    {
        await Task.Yield();
        var input = _transport.Input;
        var output = _incoming.Writer;
        Exception? error = null;
        var firstRecordSeen = false;
        using var firstRecordDeadline = _firstRecordTimeout is { } timeout
            ? CancellationTokenSource.CreateLinkedTokenSource(_stop.Token)
            : null;
        firstRecordDeadline?.CancelAfter(_firstRecordTimeout!.Value);
        try
        {
            while (true)
            {
                ReadResult result;
                try
                {
                    result = await input.ReadAsync(firstRecordSeen ? _stop.Token : firstRecordDeadline?.Token ?? _stop.Token);
                }
                catch (OperationCanceledException) when (!_stop.IsCancellationRequested && !firstRecordSeen)
                {
                    throw Broken("no record arrived within the handshake timeout");
                }

                var buffer = result.Buffer;
                var decrypted = false;
                while (TryReadRecord(ref buffer, output, out var wasRecord))
                {
                    decrypted |= wasRecord;
                    firstRecordSeen = true;
                }

                input.AdvanceTo(buffer.Start, buffer.End);
                _receiver.Release();
                if (decrypted)
                {
                    var flush = await output.FlushAsync(_stop.Token);
                    if (flush.IsCompleted)
                    {
                        break;
                    }
                }

                if (result.IsCompleted || result.IsCanceled)
                {
                    if (!buffer.IsEmpty)
                    {
                        throw Broken($"connection ended inside a record ({buffer.Length} bytes left over)");
                    }

                    break;
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
            error = ex;
        }
        finally
        {
            await input.CompleteAsync();
            await output.CompleteAsync(error);
            if (error is not null)
            {
                // The peer can no longer be trusted: stop sending too.
                _outgoing?.Reader.CancelPendingRead();
                _sealing?.Stop();
            }
        }
    }

    /// <summary>
    /// Encrypts one record's plaintext into <paramref name="output"/>. A plaintext split across segments is copied into
    /// a buffer rented for this record only, so an idle connection (thousands of idle map streams) holds none.
    /// </summary>
    private void SealRecord(ReadOnlySequence<byte> plaintext, PipeWriter output)
    {
        var size = (int)plaintext.Length;
        var destination = output.GetSpan(size + NoiseMessages.HeaderSize + NoiseMessages.TagSize);
        if (plaintext.IsSingleSegment)
        {
            output.Advance(_sender.Seal(plaintext.FirstSpan, destination));
            return;
        }

        var chunk = ArrayPool<byte>.Shared.Rent(size);
        try
        {
            plaintext.CopyTo(chunk);
            output.Advance(_sender.Seal(chunk.AsSpan(0, size), destination));
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }
    }

    private bool TryReadRecord(ref ReadOnlySequence<byte> buffer, PipeWriter output, out bool wasRecord)
    {
        wasRecord = false;
        if (buffer.Length < NoiseMessages.HeaderSize)
        {
            return false;
        }

        Span<byte> header = stackalloc byte[NoiseMessages.HeaderSize];
        buffer.Slice(0, NoiseMessages.HeaderSize).CopyTo(header);
        if (header[0] != NoiseMessages.TypeRecord)
        {
            throw Broken($"unexpected record type {header[0]}");
        }

        var length = BinaryPrimitives.ReadUInt16BigEndian(header[1..]);
        if (length > NoiseMessages.MaxCiphertextSize)
        {
            throw Broken($"record of {length + NoiseMessages.HeaderSize} bytes exceeds the maximum of {NoiseMessages.MaxMessageSize}");
        }

        if (length < NoiseMessages.TagSize)
        {
            throw Broken($"record of {length} ciphertext bytes is shorter than its tag");
        }

        if (buffer.Length < NoiseMessages.HeaderSize + length)
        {
            return false;
        }

        var ciphertext = buffer.Slice(NoiseMessages.HeaderSize, length);
        var plaintextLength = length - NoiseMessages.TagSize;
        var destination = output.GetSpan(Math.Max(plaintextLength, 1));
        bool authentic;
        if (ciphertext.IsSingleSegment)
        {
            authentic = _receiver.TryOpen(ciphertext.FirstSpan, destination);
        }
        else
        {
            var rented = ArrayPool<byte>.Shared.Rent(length);
            ciphertext.CopyTo(rented);
            authentic = _receiver.TryOpen(rented.AsSpan(0, length), destination);
            ArrayPool<byte>.Shared.Return(rented);
        }

        if (!authentic)
        {
            throw Broken($"record {_receiver.Counter - 1} failed authentication");
        }

        output.Advance(plaintextLength);
        buffer = buffer.Slice(NoiseMessages.HeaderSize + length);
        wasRecord = plaintextLength > 0;
        return true;
    }

    private async Task SendLoopAsync()
    {
        await Task.Yield();
        var input = _outgoing!.Reader;
        var output = _transport.Output;
        Exception? error = null;
        try
        {
            while (true)
            {
                var result = await input.ReadAsync(_stop.Token);
                if (result.IsCanceled)
                {
                    break;
                }

                var buffer = result.Buffer;
                while (!buffer.IsEmpty)
                {
                    var size = (int)Math.Min(buffer.Length, NoiseMessages.MaxPlaintextSize);
                    SealRecord(buffer.Slice(0, size), output);
                    buffer = buffer.Slice(size);
                }

                input.AdvanceTo(result.Buffer.End);
                _sender.Release();
                var flush = await output.FlushAsync(_stop.Token);
                if (result.IsCompleted || flush.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException)
        {
            error = ex;
        }
        finally
        {
            await input.CompleteAsync(error);
            try
            {
                // A stream writer flushes what a cancelled flush left behind; the transport may be gone by then.
                await output.CompleteAsync();
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException or NotSupportedException or OperationCanceledException)
            {
            }
        }
    }

    private NoiseProtocolException Broken(string reason)
    {
        var fault = new NoiseProtocolException(reason);
        Fault ??= fault;
        return fault;
    }

    /// <summary>
    /// Stops both loops and releases the ciphers. The transport pipes are completed, not disposed; <see cref="Input"/> and
    /// <see cref="Output"/> belong to whoever consumes the plaintext and are left for it to complete.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        _stop.Cancel();
        if (_sealing is not null)
        {
            await _sealing.StopAsync().ConfigureAwait(false);
        }

        await _loops.ConfigureAwait(false);
        _stop.Dispose();
        _sender.Dispose();
        _receiver.Dispose();
    }

    /// <summary>
    /// The plaintext writer of <see cref="NoiseConnectionOptions.SealOnFlush"/>: bytes collect in a buffer rented for the
    /// occasion, and a flush seals them into records straight into the transport writer and flushes it.
    /// </summary>
    private sealed class SealingWriter(NoiseRecordCipher sender, PipeWriter transport) : RentedBufferWriter
    {
        private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _stopped;

        /// <summary>Completes once the transport writer has been completed.</summary>
        public Task Completion => _completion.Task;

        private void SealBuffered()
        {
            if (TakeBuffered() is not { } taken)
            {
                return;
            }

            var (buffer, length) = taken;

            for (var offset = 0; offset < length;)
            {
                var size = Math.Min(length - offset, NoiseMessages.MaxPlaintextSize);
                var destination = transport.GetSpan(size + NoiseMessages.HeaderSize + NoiseMessages.TagSize);
                transport.Advance(sender.Seal(buffer.AsSpan(offset, size), destination));
                offset += size;
            }

            sender.Release();
            Release(buffer);
        }

        public override async ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            if (Volatile.Read(ref _stopped) != 0)
            {
                Discard();
                return new FlushResult(isCanceled: false, isCompleted: true);
            }

            SealBuffered();
            var result = await transport.FlushAsync(cancellationToken);
            return new FlushResult(result.IsCanceled, result.IsCompleted);
        }

        public override void CancelPendingFlush() => transport.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => _ = CompleteAsync(exception).AsTask();

        public override async ValueTask CompleteAsync(Exception? exception = null)
        {
            if (Volatile.Read(ref _stopped) == 0)
            {
                SealBuffered();
            }

            await StopAsync();
            Discard();
        }

        /// <summary>Nothing more is sent; the transport writer is completed (what is sealed already still goes out).</summary>
        public void Stop() => _ = StopAsync();

        public async Task StopAsync()
        {
            if (Interlocked.Exchange(ref _stopped, 1) != 0)
            {
                await _completion.Task;
                return;
            }

            try
            {
                await transport.CompleteAsync();
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException or InvalidOperationException or NotSupportedException or OperationCanceledException)
            {
                // The transport is gone already.
            }
            finally
            {
                // Unsent bytes are dropped by the writer's own next flush or completion (this may run on the
                // receive loop, while the writer's thread still holds its buffer).
                _completion.TrySetResult();
            }
        }
    }
}
