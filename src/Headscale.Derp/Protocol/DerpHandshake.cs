using System.Buffers;
using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Serialization;
using Headscale.Derp.Keys;

namespace Headscale.Derp.Protocol;

/// <summary>ClientInfo JSON sealed in the ClientInfo frame (derp-protocol.md §3). Note the mixed casing of the names.</summary>
public sealed record DerpClientInfo
{
    [JsonPropertyName("meshKey"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? MeshKey { get; init; }

    [JsonPropertyName("version"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int Version { get; init; }

    [JsonPropertyName("CanAckPings")]
    public bool CanAckPings { get; init; }

    [JsonPropertyName("IsProber"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public bool IsProber { get; init; }

    [JsonPropertyName("AppName"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? AppName { get; init; }
}

/// <summary>ServerInfo JSON sealed in the ServerInfo frame.</summary>
public sealed record DerpServerInfo
{
    [JsonPropertyName("version"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int Version { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int TokenBucketBytesPerSecond { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingDefault)]
    public int TokenBucketBytesBurst { get; init; }
}

/// <summary>Builds and opens the sealed handshake frames. Runs once per connection, so allocation is fine here.</summary>
public static class DerpHandshake
{
    public static void WriteClientInfo(IBufferWriter<byte> writer, DerpPrivateKey clientKey, in DerpPublicKey serverKey, DerpClientInfo info)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(info, DerpJsonContext.Default.DerpClientInfo);
        var length = DerpConstants.KeyLength + DerpConstants.NonceLength + json.Length + NaclBox.TagLength;
        var span = writer.GetSpan(DerpConstants.FrameHeaderLength + length);
        DerpFrameWriter.WriteHeader(span, DerpFrameType.ClientInfo, length);
        clientKey.PublicKey.CopyTo(span[5..]);
        var nonce = span.Slice(5 + DerpConstants.KeyLength, DerpConstants.NonceLength);
        RandomNumberGenerator.Fill(nonce);
        NaclBox.Seal(span.Slice(5 + DerpConstants.KeyLength + DerpConstants.NonceLength, json.Length + NaclBox.TagLength),
            json, nonce, serverKey, clientKey);
        writer.Advance(DerpConstants.FrameHeaderLength + length);
    }

    /// <summary>Opens a ClientInfo payload.</summary>
    /// <exception cref="DerpProtocolException">Too short, the box does not open, or the JSON is invalid.</exception>
    public static (DerpPublicKey ClientKey, DerpClientInfo Info) ReadClientInfo(in ReadOnlySequence<byte> payload, DerpPrivateKey serverKey)
    {
        const int prefix = DerpConstants.KeyLength + DerpConstants.NonceLength;
        if (payload.Length < prefix + NaclBox.TagLength)
            throw new DerpProtocolException($"ClientInfo frame is {payload.Length} bytes; at least {prefix + NaclBox.TagLength} are required.");
        var bytes = payload.ToArray();
        var clientKey = new DerpPublicKey(bytes.AsSpan(0, DerpConstants.KeyLength));
        var box = bytes.AsSpan(prefix);
        var json = new byte[box.Length - NaclBox.TagLength];
        if (!NaclBox.TryOpen(json, box, bytes.AsSpan(DerpConstants.KeyLength, DerpConstants.NonceLength), clientKey, serverKey))
            throw new DerpProtocolException($"ClientInfo box from {clientKey.ToShortString()} does not open with the server key.");
        try
        {
            var info = JsonSerializer.Deserialize(json, DerpJsonContext.Default.DerpClientInfo)
                ?? throw new DerpProtocolException("ClientInfo JSON is null.");
            return (clientKey, info);
        }
        catch (JsonException e)
        {
            throw new DerpProtocolException($"ClientInfo JSON is invalid: {e.Message}");
        }
    }

    public static void WriteServerInfo(IBufferWriter<byte> writer, DerpPrivateKey serverKey, in DerpPublicKey clientKey, DerpServerInfo info)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(info, DerpJsonContext.Default.DerpServerInfo);
        var length = DerpConstants.NonceLength + json.Length + NaclBox.TagLength;
        var span = writer.GetSpan(DerpConstants.FrameHeaderLength + length);
        DerpFrameWriter.WriteHeader(span, DerpFrameType.ServerInfo, length);
        var nonce = span.Slice(5, DerpConstants.NonceLength);
        RandomNumberGenerator.Fill(nonce);
        NaclBox.Seal(span.Slice(5 + DerpConstants.NonceLength, json.Length + NaclBox.TagLength), json, nonce, clientKey, serverKey);
        writer.Advance(DerpConstants.FrameHeaderLength + length);
    }

    public static DerpServerInfo ReadServerInfo(in ReadOnlySequence<byte> payload, DerpPrivateKey clientKey, in DerpPublicKey serverKey)
    {
        if (payload.Length < DerpConstants.NonceLength + NaclBox.TagLength)
            throw new DerpProtocolException($"ServerInfo frame is {payload.Length} bytes, too short.");
        var bytes = payload.ToArray();
        var box = bytes.AsSpan(DerpConstants.NonceLength);
        var json = new byte[box.Length - NaclBox.TagLength];
        if (!NaclBox.TryOpen(json, box, bytes.AsSpan(0, DerpConstants.NonceLength), serverKey, clientKey))
            throw new DerpProtocolException("ServerInfo box does not open.");
        try
        {
            return JsonSerializer.Deserialize(json, DerpJsonContext.Default.DerpServerInfo)
                ?? throw new DerpProtocolException("ServerInfo JSON is null.");
        }
        catch (JsonException e)
        {
            throw new DerpProtocolException($"ServerInfo JSON is invalid: {e.Message}");
        }
    }

    /// <summary>Parses a ServerKey payload: magic then the server key.</summary>
    public static DerpPublicKey ReadServerKey(in ReadOnlySequence<byte> payload)
    {
        if (payload.Length < 8 + DerpConstants.KeyLength)
            throw new DerpProtocolException($"ServerKey frame is {payload.Length} bytes; 40 are required.");
        Span<byte> bytes = stackalloc byte[8 + DerpConstants.KeyLength];
        payload.Slice(0, bytes.Length).CopyTo(bytes);
        if (!bytes[..8].SequenceEqual(DerpConstants.Magic))
            throw new DerpProtocolException("ServerKey frame does not start with the DERP magic.");
        return new DerpPublicKey(bytes[8..]);
    }
}
