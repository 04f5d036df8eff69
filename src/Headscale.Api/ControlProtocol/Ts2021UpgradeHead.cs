using System.Buffers;
using System.Text;

namespace Headscale.Api.ControlProtocol;

/// <summary>What the first bytes of a connection say about taking it as a ts2021 upgrade.</summary>
internal enum UpgradeHeadOutcome
{
    /// <summary>They start like the upgrade, but the head has not ended yet.</summary>
    NeedMore,

    /// <summary>A complete, well-formed <c>POST /ts2021</c> upgrade to the control protocol.</summary>
    Upgrade,

    /// <summary>Anything else (another request, or an upgrade the HTTP/1.1 server must answer or refuse).</summary>
    NotOurs,
}

/// <summary>
/// Recognises the plain ts2021 upgrade as a Tailscale client sends it as the first request of a connection:
/// <c>POST /ts2021 HTTP/1.1</c> with <c>Upgrade: tailscale-control-protocol</c>, <c>Connection: upgrade</c>, a
/// <c>Host</c>, no body and an <c>X-Tailscale-Handshake</c> that decodes. Only such heads are taken; everything
/// doubtful is left to the HTTP/1.1 server, which answers or refuses it as for any request.
/// </summary>
internal readonly record struct Ts2021UpgradeHead(byte[] Initiation, string? ForwardedFor)
{
    /// <summary>Longest head taken; anything longer goes to the HTTP/1.1 server and its own limits.</summary>
    public const int MaxHeadBytes = 16 * 1024;

    private static ReadOnlySpan<byte> RequestLine => "POST /ts2021 HTTP/1.1\r\n"u8;

    private static ReadOnlySpan<byte> HeadEnd => "\r\n\r\n"u8;

    /// <summary>
    /// Looks at <paramref name="buffer"/> (the connection's first unread bytes). On <see cref="UpgradeHeadOutcome.Upgrade"/>,
    /// <paramref name="end"/> is the position just after the head's blank line.
    /// </summary>
    public static UpgradeHeadOutcome TryParse(ReadOnlySequence<byte> buffer, out Ts2021UpgradeHead head, out SequencePosition end)
    {
        head = default;
        end = buffer.Start;
        Span<byte> start = stackalloc byte[RequestLine.Length];
        var available = (int)Math.Min(buffer.Length, RequestLine.Length);
        buffer.Slice(0, available).CopyTo(start);
        if (!start[..available].SequenceEqual(RequestLine[..available]))
        {
            return UpgradeHeadOutcome.NotOurs;
        }

        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryReadTo(out ReadOnlySequence<byte> headBytes, HeadEnd, advancePastDelimiter: true))
        {
            return buffer.Length >= MaxHeadBytes ? UpgradeHeadOutcome.NotOurs : UpgradeHeadOutcome.NeedMore;
        }

        if (headBytes.Length + HeadEnd.Length > MaxHeadBytes)
        {
            return UpgradeHeadOutcome.NotOurs;
        }

        var text = Encoding.Latin1.GetString(headBytes.Slice(RequestLine.Length - 2));
        if (!TryReadFields(text, out var fields) || !IsPlainUpgrade(fields))
        {
            return UpgradeHeadOutcome.NotOurs;
        }

        if (!Ts2021Handler.TryDecodeInitiation(fields.Handshake!, out var initiation))
        {
            return UpgradeHeadOutcome.NotOurs;
        }

        head = new Ts2021UpgradeHead(initiation, fields.ForwardedFor);
        end = reader.Position;
        return UpgradeHeadOutcome.Upgrade;
    }

    private static bool IsPlainUpgrade(in Fields fields) =>
        fields.Host is not null
        && string.Equals(fields.Upgrade, Ts2021Handler.UpgradeHeaderValue, StringComparison.OrdinalIgnoreCase)
        && fields.Connection is { } connection
        && connection.Split(',').Any(static token => token.Trim().Equals("upgrade", StringComparison.OrdinalIgnoreCase))
        && fields.Handshake is { Length: > 0 }
        && !fields.HasTransferEncoding
        && fields.ContentLength is null or "0";

    /// <summary>The header fields that decide; a malformed or repeated one makes the head not ours.</summary>
    private static bool TryReadFields(string text, out Fields fields)
    {
        fields = default;
        // text starts with the CRLF that ended the request line.
        foreach (var line in text.Split("\r\n").Skip(1))
        {
            var colon = line.IndexOf(':');
            if (colon <= 0 || line[0] is ' ' or '\t' || char.IsWhiteSpace(line[colon - 1]) || line.Contains('\n') || line.Contains('\r'))
            {
                return false;
            }

            var name = line[..colon];
            var value = line[(colon + 1)..].Trim(' ', '\t');
            if (name.Equals("Host", StringComparison.OrdinalIgnoreCase) && !Set(ref fields.Host, value)
                || name.Equals("Upgrade", StringComparison.OrdinalIgnoreCase) && !Set(ref fields.Upgrade, value)
                || name.Equals("Connection", StringComparison.OrdinalIgnoreCase) && !Set(ref fields.Connection, value)
                || name.Equals(Ts2021Handler.HandshakeHeaderName, StringComparison.OrdinalIgnoreCase) && !Set(ref fields.Handshake, value)
                || name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase) && !Set(ref fields.ContentLength, value)
                || name.Equals("X-Forwarded-For", StringComparison.OrdinalIgnoreCase) && !Set(ref fields.ForwardedFor, value))
            {
                return false;
            }

            if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase))
            {
                fields.HasTransferEncoding = true;
            }
        }

        return true;
    }

    private static bool Set(ref string? field, string value)
    {
        if (field is not null)
        {
            return false;
        }

        field = value;
        return true;
    }

    private struct Fields
    {
        public string? Host;
        public string? Upgrade;
        public string? Connection;
        public string? Handshake;
        public string? ContentLength;
        public string? ForwardedFor;
        public bool HasTransferEncoding;
    }
}
