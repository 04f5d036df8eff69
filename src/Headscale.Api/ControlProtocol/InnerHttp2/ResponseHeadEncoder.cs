using System.Buffers;
using Headscale.Protocol.Http2;
using Microsoft.AspNetCore.Http;

namespace Headscale.Api.ControlProtocol.InnerHttp2;

/// <summary>Encodes a response head with HPACK literals (no dynamic table, so the connection keeps no encoder state).</summary>
internal static class ResponseHeadEncoder
{
    /// <summary>Returns a pooled buffer holding the block in its first <paramref name="length"/> bytes; the caller returns it.</summary>
    public static byte[] Encode(int status, IHeaderDictionary? headers, out int length)
    {
        var size = 16;
        if (headers is not null)
        {
            foreach (var (name, values) in headers)
            {
                foreach (var value in values)
                {
                    size += name.Length + (value?.Length ?? 0) + 12;
                }
            }
        }

        var buffer = ArrayPool<byte>.Shared.Rent(size);
        if (!HpackEncoder.TryEncodeStatus(status, buffer, out length))
        {
            throw new InvalidOperationException($"status {status} could not be encoded");
        }

        if (headers is null)
        {
            return buffer;
        }

        Span<char> lower = stackalloc char[256];
        foreach (var (name, values) in headers)
        {
            if (IsConnectionSpecific(name))
            {
                continue;
            }

            var lowerName = name.Length <= lower.Length ? lower[..name.Length] : new char[name.Length];
            name.AsSpan().ToLowerInvariant(lowerName);
            foreach (var value in values)
            {
                if (!HpackEncoder.TryEncodeLiteral(lowerName, value, buffer.AsSpan(length), out var written))
                {
                    throw new InvalidOperationException($"response header {name} could not be encoded");
                }

                length += written;
            }
        }

        return buffer;
    }

    // RFC 9113 §8.2.2: connection-specific fields do not exist in HTTP/2.
    private static bool IsConnectionSpecific(string name) =>
        name.Equals("Connection", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Keep-Alive", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Upgrade", StringComparison.OrdinalIgnoreCase)
        || name.Equals("Proxy-Connection", StringComparison.OrdinalIgnoreCase);
}
