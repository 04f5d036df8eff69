using System.Net;
using System.Text;
using Headscale.Protocol.Keys;
using Headscale.Protocol.Noise;
using Microsoft.Extensions.Logging;

namespace Headscale.Api.Tests.ControlProtocol;

/// <summary>
/// Each bad input gets the reaction of the spec (status, error message or close), is logged once, and leaves the server
/// serving good clients with no connection left behind.
/// </summary>
public sealed class Ts2021BadInputTests : IAsyncLifetime
{
    private static readonly TimeSpan HandshakeTimeout = TimeSpan.FromSeconds(1);
    private Ts2021TestServer _server = null!;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _server = await Ts2021TestServer.StartAsync(HandshakeTimeout);

    public async ValueTask DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData(null, "missing X-Tailscale-Handshake header")]
    [InlineData("not*base64!", "X-Tailscale-Handshake is not valid base64")]
    public async Task Upgrade_without_a_usable_handshake_header_is_refused_with_400(string? header, string reason)
    {
        await using (var raw = await RawTs2021Socket.ConnectAsync(_server.Url, Ct))
        {
            await raw.SendUpgradeAsync(header, Ct);
            var (head, body) = await raw.ReadHeadAndAsync(reason.Length, Ct);

            Assert.StartsWith("HTTP/1.1 400", head, StringComparison.Ordinal);
            Assert.Contains(reason, Encoding.UTF8.GetString(body), StringComparison.Ordinal);
        }

        await AssertStillServesAsync();
    }

    [Fact]
    public async Task Unknown_upgrade_protocol_is_refused_with_400()
    {
        await using var raw = await RawTs2021Socket.ConnectAsync(_server.Url, Ct);
        await raw.SendUpgradeAsync(Convert.ToBase64String(new byte[101]), Ct, upgrade: "h2c");
        var (head, body) = await raw.ReadHeadAndAsync(10, Ct);

        Assert.StartsWith("HTTP/1.1 400", head, StringComparison.Ordinal);
        Assert.Contains("unknown next protocol", Encoding.UTF8.GetString(body), StringComparison.Ordinal);
    }

    public static TheoryData<string, byte[], string> MalformedInitiations()
    {
        var valid = ValidInitiation(142, MachinePrivateKey.Generate().PublicKey);
        var wrongType = (byte[])valid.Clone();
        wrongType[2] = NoiseMessages.TypeRecord;
        var wrongLength = (byte[])valid.Clone();
        wrongLength[4] = 0x61;
        return new TheoryData<string, byte[], string>
        {
            { "truncated", valid[..50], "wrong handshake initiation size" },
            { "oversized", [.. valid, .. new byte[99]], "wrong handshake initiation size" },
            { "wrong type", wrongType, "unexpected handshake message type" },
            { "wrong length field", wrongLength, "wrong handshake initiation length" },
        };
    }

    [Theory]
    [MemberData(nameof(MalformedInitiations))]
    public async Task Malformed_initiation_gets_the_noise_error_message_and_a_close(string _, byte[] initiation, string error)
    {
        var before = _server.Logs.WithEvent(3002).Count;
        await using var raw = await RawTs2021Socket.ConnectAsync(_server.Url, Ct);
        await raw.SendUpgradeAsync(Convert.ToBase64String(initiation), Ct);
        var (head, body) = RawTs2021Socket.Split(await raw.ReadToEndAsync(Ct));

        Assert.StartsWith("HTTP/1.1 101", head, StringComparison.Ordinal);
        Assert.Equal(NoiseMessages.CreateErrorMessage(error), body);
        var logged = await _server.Logs.WaitForAsync(3002);
        Assert.Equal(LogLevel.Information, logged.Level);
        Assert.Equal(before + 1, _server.Logs.WithEvent(3002).Count);
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task Garbled_initiation_that_fails_authentication_is_closed_without_a_message()
    {
        var garbled = ValidInitiation(142, _server.NoiseKey.PublicKey);
        garbled[60] ^= 0xFF;
        await using var raw = await RawTs2021Socket.ConnectAsync(_server.Url, Ct);
        await raw.SendUpgradeAsync(Convert.ToBase64String(garbled), Ct);
        var (head, body) = RawTs2021Socket.Split(await raw.ReadToEndAsync(Ct));

        Assert.StartsWith("HTTP/1.1 101", head, StringComparison.Ordinal);
        Assert.Empty(body);
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task Capability_version_below_the_minimum_sees_eof_after_the_101_and_the_reason_is_logged()
    {
        await using var raw = await RawTs2021Socket.ConnectAsync(_server.Url, Ct);
        await raw.SendUpgradeAsync(Convert.ToBase64String(ValidInitiation(89, _server.NoiseKey.PublicKey)), Ct);
        var (head, body) = RawTs2021Socket.Split(await raw.ReadToEndAsync(Ct));

        Assert.StartsWith("HTTP/1.1 101", head, StringComparison.Ordinal);
        Assert.Empty(body);
        var logged = await _server.Logs.WaitForAsync(3003);
        Assert.Contains("capability version 89 is below the minimum 90", logged.Message, StringComparison.Ordinal);
        await AssertStillServesAsync();
    }

    [Fact]
    public async Task Client_that_sends_nothing_after_the_handshake_is_closed_after_the_timeout()
    {
        var (raw, _) = await HandshakeAsync();
        await using (raw)
        {
            // The server hangs up by itself; the read ends without the test closing anything.
            await raw.ReadToEndAsync(Ct).WaitAsync(HandshakeTimeout * 20, Ct);
        }

        await AssertStillServesAsync();
    }

    public static TheoryData<string, byte[]> BrokenRecords() => new()
    {
        { "AEAD failure", [NoiseMessages.TypeRecord, 0x00, 0x20, .. new byte[32]] },
        { "record over 4096 bytes", [NoiseMessages.TypeRecord, 0x10, 0x00, .. new byte[4096]] },
        { "wrong record type", [NoiseMessages.TypeResponse, 0x00, 0x20, .. new byte[32]] },
    };

    [Theory]
    [MemberData(nameof(BrokenRecords))]
    public async Task Broken_record_after_the_handshake_closes_only_that_connection(string _, byte[] record)
    {
        using var bystander = _server.CreateClient();
        using var trickle = await bystander.Http.SendAsync(
            bystander.CreateRequest(HttpMethod.Get, "/machine/trickle"), HttpCompletionOption.ResponseHeadersRead, Ct);
        var brokenBefore = _server.Statistics.Broken;

        var (raw, _) = await HandshakeAsync();
        await using (raw)
        {
            await raw.SendAsync(record, Ct);
            await raw.ReadToEndAsync(Ct).WaitAsync(TimeSpan.FromSeconds(20), Ct);
        }

        // The client can see the close before the handler has counted it: the log line comes after the count.
        var logged = await _server.Logs.WaitForAsync(3005);
        Assert.Equal(LogLevel.Information, logged.Level);
        Assert.Equal(brokenBefore + 1, _server.Statistics.Broken);

        // The long-lived stream of another client keeps flowing.
        await using var body = await trickle.Content.ReadAsStreamAsync(Ct);
        await _server.TricklePieces.Writer.WriteAsync("still-here", Ct);
        var buffer = new byte[64];
        var read = await body.ReadAsync(buffer, Ct);
        Assert.Equal("still-here", Encoding.ASCII.GetString(buffer, 0, read));
        _server.TricklePieces.Writer.Complete();
        Assert.Equal(0, await body.ReadAsync(buffer, Ct));
        trickle.Dispose();
        bystander.Dispose();
        await _server.AssertNoConnectionsLeftAsync();
    }

    private async Task<(RawTs2021Socket Raw, NoiseTransportKeys Keys)> HandshakeAsync()
    {
        var initiation = new byte[NoiseMessages.InitiationSize];
        using var initiator = NoiseHandshake.Initiate(142, MachinePrivateKey.Generate(), _server.NoiseKey.PublicKey, initiation);
        var raw = await RawTs2021Socket.ConnectAsync(_server.Url, Ct);
        await raw.SendUpgradeAsync(Convert.ToBase64String(initiation), Ct);
        var (head, body) = await raw.ReadHeadAndAsync(NoiseMessages.ResponseSize, Ct);
        Assert.StartsWith("HTTP/1.1 101", head, StringComparison.Ordinal);
        return (raw, initiator.Complete(body.AsSpan(0, NoiseMessages.ResponseSize)));
    }

    private static byte[] ValidInitiation(ushort version, MachinePublicKey serverKey)
    {
        var initiation = new byte[NoiseMessages.InitiationSize];
        using var _ = NoiseHandshake.Initiate(version, MachinePrivateKey.Generate(), serverKey, initiation);
        return initiation;
    }

    private async Task AssertStillServesAsync()
    {
        using (var client = _server.CreateClient())
        {
            using var response = await client.Http.SendAsync(client.CreateRequest(HttpMethod.Get, "/machine/whoami"), Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        await _server.AssertNoConnectionsLeftAsync();
    }
}
