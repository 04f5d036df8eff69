using System.Text;
using Headscale.Protocol.Http2;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Primitives;

namespace Headscale.Api.ControlProtocol.InnerHttp2;

/// <summary>
/// Receives the decoded fields of one request header block and checks them against RFC 9113 §8.2–8.3: pseudo-headers
/// first, each once, only the request ones; lowercase names; no connection-specific fields; no CR, LF or NUL in values.
/// Decoding always runs to the end of the block (the HPACK table must stay in step), so a violation is recorded in
/// <see cref="Error"/> rather than thrown.
/// </summary>
internal sealed class RequestHeadCollector : IHpackHeaderHandler
{
    private bool _regularSeen;

    public string? Method { get; private set; }

    public string? Scheme { get; private set; }

    public string? Authority { get; private set; }

    public string? Path { get; private set; }

    public HeaderDictionary? Headers { get; private set; }

    public long? ContentLength { get; private set; }

    /// <summary>Why the header block is malformed, or null.</summary>
    public string? Error { get; private set; }

    /// <summary>True while decoding trailers: fields are checked but not kept.</summary>
    public bool Discarding { get; private set; }

    public void Begin(bool trailers)
    {
        Method = Scheme = Authority = Path = null;
        Headers = trailers ? null : new HeaderDictionary();
        ContentLength = null;
        Error = null;
        Discarding = trailers;
        _regularSeen = false;
    }

    public void OnHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        if (Error is not null)
        {
            return;
        }

        if (name.IsEmpty)
        {
            Error = "empty header name";
            return;
        }

        if (value.IndexOfAny((byte)'\r', (byte)'\n', (byte)0) >= 0)
        {
            Error = $"header {Latin1(name)} has CR, LF or NUL in its value";
            return;
        }

        if (name[0] == (byte)':')
        {
            OnPseudoHeader(name, value);
            return;
        }

        _regularSeen = true;
        if (name.IndexOfAnyInRange((byte)'A', (byte)'Z') >= 0)
        {
            Error = $"header name {Latin1(name)} is not lowercase";
            return;
        }

        if (name.SequenceEqual("connection"u8) || name.SequenceEqual("keep-alive"u8) || name.SequenceEqual("proxy-connection"u8)
            || name.SequenceEqual("transfer-encoding"u8) || name.SequenceEqual("upgrade"u8))
        {
            Error = $"connection-specific header {Latin1(name)} is not allowed in HTTP/2";
            return;
        }

        if (name.SequenceEqual("te"u8) && !value.SequenceEqual("trailers"u8))
        {
            Error = "te may only be \"trailers\" in HTTP/2";
            return;
        }

        if (Discarding)
        {
            return;
        }

        var text = Text(value);
        if (name.SequenceEqual("content-length"u8))
        {
            if (!long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var length)
                || (ContentLength is { } earlier && earlier != length))
            {
                Error = $"content-length \"{text}\" is not a valid length";
                return;
            }

            ContentLength = length;
        }

        var key = Text(name);
        Headers![key] = StringValues.Concat(Headers[key], text);
    }

    private void OnPseudoHeader(ReadOnlySpan<byte> name, ReadOnlySpan<byte> value)
    {
        if (Discarding)
        {
            Error = "pseudo-header in trailers";
            return;
        }

        if (_regularSeen)
        {
            Error = $"pseudo-header {Latin1(name)} after a regular header";
            return;
        }

        var text = Text(value);
        if (name.SequenceEqual(":method"u8))
        {
            Method = Once(Method, text, ":method");
        }
        else if (name.SequenceEqual(":scheme"u8))
        {
            Scheme = Once(Scheme, text, ":scheme");
        }
        else if (name.SequenceEqual(":authority"u8))
        {
            Authority = Once(Authority, text, ":authority");
        }
        else if (name.SequenceEqual(":path"u8))
        {
            Path = Once(Path, text, ":path");
        }
        else
        {
            Error = $"unknown pseudo-header {Latin1(name)}";
        }
    }

    /// <summary>After the block: the request's pseudo-headers are complete (RFC 9113 §8.3.1), or the reason they are not.</summary>
    public string? CheckRequest()
    {
        if (Error is not null || Discarding)
        {
            return Error;
        }

        if (Method is null or { Length: 0 })
        {
            return "missing :method";
        }

        if (Method == "CONNECT")
        {
            return "CONNECT is not supported";
        }

        if (Scheme is null or { Length: 0 })
        {
            return "missing :scheme";
        }

        if (Path is null or { Length: 0 })
        {
            return "missing :path";
        }

        if (Path[0] != '/' && !(Path == "*" && Method == "OPTIONS"))
        {
            return $":path \"{Path}\" is not an absolute path";
        }

        return null;
    }

    private string? Once(string? existing, string value, string name)
    {
        if (existing is not null)
        {
            Error = $"{name} appears more than once";
        }

        return value;
    }

    private static string Latin1(ReadOnlySpan<byte> bytes) => Encoding.Latin1.GetString(bytes);

    /// <summary>
    /// Header text as a string, shared for the names and values every Tailscale client sends: a map long poll keeps its
    /// request's strings for hours, and thousands of them would otherwise each hold their own "POST" and
    /// "/machine/map".
    /// </summary>
    private static string Text(ReadOnlySpan<byte> bytes)
    {
        foreach (var known in KnownTexts)
        {
            if (known.Length == bytes.Length && Matches(known, bytes))
            {
                return known;
            }
        }

        return Latin1(bytes);
    }

    private static bool Matches(string known, ReadOnlySpan<byte> bytes)
    {
        for (var i = 0; i < bytes.Length; i++)
        {
            if (known[i] != bytes[i])
            {
                return false;
            }
        }

        return true;
    }

    private static readonly string[] KnownTexts =
    [
        "GET", "POST", "http", "https", "/machine/map", "/machine/register", "/machine/set-dns", "/machine/id-token",
        "content-type", "content-length", "accept-encoding", "user-agent", "application/json", "zstd", "gzip",
    ];
}
