using System.Buffers.Binary;
using System.Text;

namespace Headscale.Protocol.Noise;

/// <summary>Wire layout of ts2021 messages (spec §d.3–d.5). Every length in these headers is big-endian.</summary>
public static class NoiseMessages
{
    public const byte TypeInitiation = 0x01;
    public const byte TypeResponse = 0x02;
    public const byte TypeError = 0x03;
    public const byte TypeRecord = 0x04;

    /// <summary>Header of every message except the initiation: type + BE16 length.</summary>
    public const int HeaderSize = 3;

    /// <summary>The initiation header also carries the BE16 protocol version in front.</summary>
    public const int InitiationHeaderSize = 5;
    public const int InitiationPayloadSize = 96;
    public const int InitiationSize = InitiationHeaderSize + InitiationPayloadSize;
    public const int ResponsePayloadSize = 48;
    public const int ResponseSize = HeaderSize + ResponsePayloadSize;
    public const int TagSize = 16;

    /// <summary>Largest record on the wire, header included.</summary>
    public const int MaxMessageSize = 4096;
    public const int MaxCiphertextSize = MaxMessageSize - HeaderSize;
    public const int MaxPlaintextSize = MaxCiphertextSize - TagSize;

    /// <summary>Length of the error text that fits one message; longer texts are cut.</summary>
    public const int MaxErrorTextSize = MaxMessageSize - HeaderSize;

    /// <summary>Builds an unauthenticated error message: <c>03 ‖ BE16(len) ‖ UTF-8 text</c>.</summary>
    public static byte[] CreateErrorMessage(string text)
    {
        var utf8 = Encoding.UTF8.GetBytes(text);
        var length = Math.Min(utf8.Length, MaxErrorTextSize);
        var message = new byte[HeaderSize + length];
        message[0] = TypeError;
        BinaryPrimitives.WriteUInt16BigEndian(message.AsSpan(1), (ushort)length);
        utf8.AsSpan(0, length).CopyTo(message.AsSpan(HeaderSize));
        return message;
    }

    /// <summary>The Noise prologue, ASCII <c>"Tailscale Control Protocol v{version}"</c> without padding.</summary>
    public static byte[] Prologue(ushort protocolVersion) =>
        Encoding.ASCII.GetBytes("Tailscale Control Protocol v" + protocolVersion.ToString(System.Globalization.CultureInfo.InvariantCulture));
}

/// <summary>A ts2021 peer broke the protocol; the connection cannot continue.</summary>
public sealed class NoiseProtocolException(string message) : IOException(message);
