using System.Buffers;
using System.IO.Pipelines;
using Headscale.Protocol.Keys;
using Headscale.Protocol.Noise;

namespace Headscale.Protocol.Tests.Noise;

public sealed class NoiseConnectionTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Bytes_cross_in_both_directions_intact()
    {
        await using var pair = await ConnectionPair.CreateAsync();
        var data = RandomBytes(100_000);

        var receive = ReadExactlyAsync(pair.Server.Input, data.Length);
        await pair.Client.Output.WriteAsync(data, Ct);
        Assert.Equal(data, await receive);

        await pair.Server.Output.WriteAsync("pong"u8.ToArray(), Ct);
        Assert.Equal("pong"u8.ToArray(), await ReadExactlyAsync(pair.Client.Input, 4));
    }

    [Theory]
    [InlineData(15_360, 4)]
    [InlineData(30_720, 8)]
    [InlineData(4_077, 1)]
    [InlineData(4_078, 2)]
    public async Task Writes_are_cut_into_records_of_at_most_4077_bytes(int size, ulong records)
    {
        await using var pair = await ConnectionPair.CreateAsync();

        var receive = ReadExactlyAsync(pair.Server.Input, size);
        await pair.Client.Output.WriteAsync(RandomBytes(size), Ct);
        await receive;

        Assert.Equal(records, pair.Client.RecordsSent);
        Assert.Equal(records, pair.Server.RecordsReceived);
    }

    [Theory]
    [InlineData(2, 1UL)]
    [InlineData(4_077, 1UL)]
    [InlineData(4_078, 2UL)]
    [InlineData(100_000, 25UL)]
    public async Task A_writer_that_seals_on_flush_sends_the_same_records_without_a_send_loop(int size, ulong records)
    {
        await using var pair = await ConnectionPair.CreateAsync(serverSealsOnFlush: true);
        var data = RandomBytes(size);

        var receive = ReadExactlyAsync(pair.Client.Input, size);
        await pair.Server.Output.WriteAsync(data, Ct);

        Assert.Equal(data, await receive);
        Assert.Equal(records, pair.Server.RecordsSent);
        Assert.Equal(records, pair.Client.RecordsReceived);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Between_batches_neither_side_holds_cipher_state(bool serverSealsOnFlush)
    {
        await using var pair = await ConnectionPair.CreateAsync(serverSealsOnFlush);
        var data = RandomBytes(20_000);

        var toServer = ReadExactlyAsync(pair.Server.Input, data.Length);
        await pair.Client.Output.WriteAsync(data, Ct);
        Assert.Equal(data, await toServer);
        var toClient = ReadExactlyAsync(pair.Client.Input, data.Length);
        await pair.Server.Output.WriteAsync(data, Ct);
        Assert.Equal(data, await toClient);

        // Each loop lets its AEAD go before it hands on what it sealed or opened, so by now all four have.
        Assert.False(pair.Client.HoldsCipherState, "the client still holds cipher state");
        Assert.False(pair.Server.HoldsCipherState, "the server still holds cipher state");
    }

    [Fact]
    public async Task Completing_a_sealing_writer_sends_what_is_left_and_completes_the_transport()
    {
        await using var pair = await ConnectionPair.CreateAsync(serverSealsOnFlush: true);

        pair.Server.Output.Write("bye"u8);
        await pair.Server.Output.CompleteAsync();
        await pair.Server.SendCompletion.WaitAsync(TimeSpan.FromSeconds(10), Ct);

        Assert.Equal("bye"u8.ToArray(), await ReadExactlyAsync(pair.Client.Input, 3));
        var end = await pair.Client.Input.ReadAsync(Ct);
        Assert.True(end.IsCompleted);
    }

    [Fact]
    public async Task Empty_records_are_skipped()
    {
        var (serverSide, clientWire, keys) = await RawServerAsync();
        var record = new byte[2 * (NoiseMessages.HeaderSize + NoiseMessages.TagSize) + 2];
        var written = keys.Sealer.Seal([], record);
        written += keys.Sealer.Seal("ok"u8, record.AsSpan(written));
        await clientWire.WriteAsync(record.AsMemory(0, written), Ct);

        Assert.Equal("ok"u8.ToArray(), await ReadExactlyAsync(serverSide.Input, 2));
        await serverSide.DisposeAsync();
    }

    [Theory]
    [InlineData("05", "unexpected record type 5")]
    [InlineData("030003616263", "unexpected record type 3")]
    [InlineData("040ffe", "exceeds the maximum of 4096")]
    [InlineData("04000a", "shorter than its tag")]
    public async Task Malformed_record_header_breaks_the_connection(string hex, string reason)
    {
        var (server, clientWire, _) = await RawServerAsync();

        await clientWire.WriteAsync(Convert.FromHexString(hex + new string('0', 64)), Ct);

        var error = await Assert.ThrowsAsync<NoiseProtocolException>(async () => await server.Input.ReadAsync(Ct));
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
        Assert.Same(error, server.Fault);
        await server.Completion.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        await server.DisposeAsync();
    }

    [Fact]
    public async Task Record_failing_authentication_mid_stream_breaks_the_connection()
    {
        var (server, clientWire, keys) = await RawServerAsync();
        var record = new byte[64];
        var good = keys.Sealer.Seal("first"u8, record);
        await clientWire.WriteAsync(record.AsMemory(0, good), Ct);
        Assert.Equal("first"u8.ToArray(), await ReadExactlyAsync(server.Input, 5));

        var bad = keys.Sealer.Seal("second"u8, record);
        record[bad - 1] ^= 1;
        await clientWire.WriteAsync(record.AsMemory(0, bad), Ct);

        var error = await Assert.ThrowsAsync<NoiseProtocolException>(async () => await ReadExactlyAsync(server.Input, 1));
        Assert.Contains("record 1 failed authentication", error.Message, StringComparison.Ordinal);
        await server.Completion.WaitAsync(TimeSpan.FromSeconds(10), Ct);
        await server.DisposeAsync();
    }

    [Fact]
    public async Task Connection_ending_inside_a_record_is_an_error()
    {
        var (server, clientWire, keys) = await RawServerAsync();
        var record = new byte[64];
        var size = keys.Sealer.Seal("partial"u8, record);
        await clientWire.WriteAsync(record.AsMemory(0, size - 3), Ct);
        await clientWire.CompleteAsync();

        var error = await Assert.ThrowsAsync<NoiseProtocolException>(async () => await ReadExactlyAsync(server.Input, 1));
        Assert.Contains("ended inside a record", error.Message, StringComparison.Ordinal);
        await server.DisposeAsync();
    }

    [Fact]
    public async Task Silent_peer_is_dropped_after_the_first_record_timeout()
    {
        var (server, _, _) = await RawServerAsync(TimeSpan.FromMilliseconds(100));

        var error = await Assert.ThrowsAsync<NoiseProtocolException>(async () => await server.Input.ReadAsync(Ct));
        Assert.Contains("handshake timeout", error.Message, StringComparison.Ordinal);
        await server.DisposeAsync();
    }

    [Fact]
    public async Task Record_split_at_every_byte_boundary_is_reassembled()
    {
        var (server, clientWire, keys) = await RawServerAsync();
        var record = new byte[64];
        var size = keys.Sealer.Seal("byte by byte"u8, record);
        for (var i = 0; i < size; i++)
        {
            await clientWire.WriteAsync(record.AsMemory(i, 1), Ct);
        }

        Assert.Equal("byte by byte"u8.ToArray(), await ReadExactlyAsync(server.Input, 12));
        await server.DisposeAsync();
    }

    [Fact]
    public async Task Peer_closing_cleanly_ends_both_loops()
    {
        await using var pair = await ConnectionPair.CreateAsync();

        await pair.Client.Output.CompleteAsync();
        var result = await pair.Server.Input.ReadAsync(Ct);
        Assert.True(result.IsCompleted);
        await pair.Server.Output.CompleteAsync();
        await Task.WhenAll(pair.Server.Completion, pair.Client.Completion).WaitAsync(TimeSpan.FromSeconds(10), Ct);
        Assert.Null(pair.Server.Fault);
    }

    internal static byte[] RandomBytes(int size)
    {
        var data = new byte[size];
        Random.Shared.NextBytes(data);
        return data;
    }

    internal static async Task<byte[]> ReadExactlyAsync(PipeReader reader, int size)
    {
        while (true)
        {
            var result = await reader.ReadAsync(Ct);
            if (result.Buffer.Length >= size)
            {
                var data = result.Buffer.Slice(0, size).ToArray();
                reader.AdvanceTo(result.Buffer.GetPosition(size));
                return data;
            }

            if (result.IsCompleted)
            {
                throw new EndOfStreamException($"wanted {size} bytes, stream ended after {result.Buffer.Length}");
            }

            reader.AdvanceTo(result.Buffer.Start, result.Buffer.End);
        }
    }

    /// <summary>A server-side connection whose client is driven by hand, record by record.</summary>
    private static Task<(NoiseConnection Server, PipeWriter ClientWire, (NoiseRecordCipher Sealer, int Unused) Keys)> RawServerAsync(
        TimeSpan? firstRecordTimeout = null)
    {
        var (clientKeys, serverKeys) = Handshake();
        var toServer = new Pipe();
        var toClient = new Pipe();
        var server = NoiseConnection.Start(
            new DuplexPipe(toServer.Reader, toClient.Writer), serverKeys, new NoiseConnectionOptions { FirstRecordTimeout = firstRecordTimeout });
        return Task.FromResult((server, toServer.Writer, (new NoiseRecordCipher(clientKeys.SendKey.Span), 0)));
    }

    internal static (NoiseTransportKeys Client, NoiseTransportKeys Server) Handshake()
    {
        var serverKey = MachinePrivateKey.Generate();
        var initiation = new byte[NoiseMessages.InitiationSize];
        var response = new byte[NoiseMessages.ResponseSize];
        using var initiator = NoiseHandshake.Initiate(142, MachinePrivateKey.Generate(), serverKey.PublicKey, initiation);
        var serverKeys = NoiseHandshake.Respond(initiation, serverKey, response).Keys!;
        return (initiator.Complete(response), serverKeys);
    }

    internal sealed record DuplexPipe(PipeReader Input, PipeWriter Output) : IDuplexPipe;

    private sealed class ConnectionPair : IAsyncDisposable
    {
        public required NoiseConnection Client { get; init; }
        public required NoiseConnection Server { get; init; }

        public static Task<ConnectionPair> CreateAsync(bool serverSealsOnFlush = false)
        {
            var (clientKeys, serverKeys) = Handshake();
            var toServer = new Pipe();
            var toClient = new Pipe();
            return Task.FromResult(new ConnectionPair
            {
                Client = NoiseConnection.Start(new DuplexPipe(toClient.Reader, toServer.Writer), clientKeys),
                Server = NoiseConnection.Start(
                    new DuplexPipe(toServer.Reader, toClient.Writer), serverKeys, new NoiseConnectionOptions { SealOnFlush = serverSealsOnFlush }),
            });
        }

        public async ValueTask DisposeAsync()
        {
            await Client.DisposeAsync();
            await Server.DisposeAsync();
        }
    }
}
