using System.Buffers.Binary;


namespace Headscale.Derp.Stun;

/// <summary>
/// RFC 5389 Binding Request parsing and Binding Success Response writing (derp-protocol.md §7). Pure and allocation-free.
/// </summary>
public static class StunMessage
{
    public const int HeaderLength = 20;
    public const int TransactionIdLength = 12;
    public const uint MagicCookie = 0x2112a442;
    private const ushort BindingRequest = 0x0001;
    private const ushort BindingSuccess = 0x0101;
    private const ushort AttributeXorMappedAddress = 0x0020;
    private const ushort AttributeSoftware = 0x8022;
    private const ushort AttributeFingerprint = 0x8028;
    private const uint FingerprintXor = 0x5354554e;

    /// <summary>Largest response: header + XOR-MAPPED-ADDRESS for IPv6.</summary>
    public const int MaxResponseLength = HeaderLength + 4 + 20;

    /// <summary>
    /// Whether <paramref name="packet"/> is a well-formed Binding Request; on success the transaction id is copied out.
    /// Checks: header shape and cookie, type, declared length equal to the attributes present, well-formed attributes
    /// (padded to 4 bytes) and, when a FINGERPRINT is present, that it is last and matches. Tailscale's SOFTWARE
    /// attribute is not required, so generic STUN clients are answered too.
    /// </summary>
    public static bool TryParseBindingRequest(ReadOnlySpan<byte> packet, Span<byte> transactionId)
    {
        if (packet.Length < HeaderLength || (packet[0] & 0xc0) != 0) return false;
        if (BinaryPrimitives.ReadUInt32BigEndian(packet[4..]) != MagicCookie) return false;
        if (BinaryPrimitives.ReadUInt16BigEndian(packet) != BindingRequest) return false;
        var length = BinaryPrimitives.ReadUInt16BigEndian(packet[2..]);
        if (length % 4 != 0 || HeaderLength + length != packet.Length) return false;

        var offset = HeaderLength;
        while (offset < packet.Length)
        {
            if (packet.Length - offset < 4) return false;
            var type = BinaryPrimitives.ReadUInt16BigEndian(packet[offset..]);
            var valueLength = BinaryPrimitives.ReadUInt16BigEndian(packet[(offset + 2)..]);
            var padded = (valueLength + 3) & ~3;
            if (packet.Length - offset - 4 < padded) return false;
            if (type == AttributeFingerprint)
            {
                if (valueLength != 4 || offset + 8 != packet.Length) return false;
                var expected = StunCrc32.Compute(packet[..offset]) ^ FingerprintXor;
                if (BinaryPrimitives.ReadUInt32BigEndian(packet[(offset + 4)..]) != expected) return false;
            }
            offset += 4 + padded;
        }
        packet.Slice(8, TransactionIdLength).CopyTo(transactionId);
        return true;
    }

    /// <summary>Writes a Binding Success Response with XOR-MAPPED-ADDRESS; returns its length.</summary>
    /// <param name="address">4 (IPv4) or 16 (IPv6) address bytes, IPv4-mapped IPv6 already unmapped.</param>
    public static int WriteBindingResponse(Span<byte> destination, ReadOnlySpan<byte> transactionId, ReadOnlySpan<byte> address, ushort port)
    {
        var attributeLength = 4 + address.Length;
        var total = HeaderLength + 4 + attributeLength;
        BinaryPrimitives.WriteUInt16BigEndian(destination, BindingSuccess);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], (ushort)(4 + attributeLength));
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], MagicCookie);
        transactionId.CopyTo(destination[8..]);
        BinaryPrimitives.WriteUInt16BigEndian(destination[20..], AttributeXorMappedAddress);
        BinaryPrimitives.WriteUInt16BigEndian(destination[22..], (ushort)attributeLength);
        destination[24] = 0;
        destination[25] = address.Length == 4 ? (byte)1 : (byte)2;
        BinaryPrimitives.WriteUInt16BigEndian(destination[26..], (ushort)(port ^ (MagicCookie >> 16)));
        // XOR key: cookie followed by the transaction id, byte-wise.
        for (var i = 0; i < address.Length; i++)
            destination[28 + i] = (byte)(address[i] ^ destination[4 + i]);
        return total;
    }

    /// <summary>Builds the 40-byte Binding Request Tailscale sends (SOFTWARE "tailnode" + FINGERPRINT), for clients and tests.</summary>
    public static int WriteBindingRequest(Span<byte> destination, ReadOnlySpan<byte> transactionId)
    {
        BinaryPrimitives.WriteUInt16BigEndian(destination, BindingRequest);
        BinaryPrimitives.WriteUInt16BigEndian(destination[2..], 20);
        BinaryPrimitives.WriteUInt32BigEndian(destination[4..], MagicCookie);
        transactionId.CopyTo(destination[8..]);
        BinaryPrimitives.WriteUInt16BigEndian(destination[20..], AttributeSoftware);
        BinaryPrimitives.WriteUInt16BigEndian(destination[22..], 8);
        "tailnode"u8.CopyTo(destination[24..]);
        BinaryPrimitives.WriteUInt16BigEndian(destination[32..], AttributeFingerprint);
        BinaryPrimitives.WriteUInt16BigEndian(destination[34..], 4);
        BinaryPrimitives.WriteUInt32BigEndian(destination[36..], StunCrc32.Compute(destination[..32]) ^ FingerprintXor);
        return 40;
    }

    /// <summary>Parses a Binding Success Response's XOR-MAPPED-ADDRESS (clients and tests).</summary>
    public static bool TryParseBindingResponse(ReadOnlySpan<byte> packet, ReadOnlySpan<byte> transactionId,
        out System.Net.IPEndPoint? mapped)
    {
        mapped = null;
        if (packet.Length < HeaderLength || BinaryPrimitives.ReadUInt16BigEndian(packet) != BindingSuccess) return false;
        if (BinaryPrimitives.ReadUInt32BigEndian(packet[4..]) != MagicCookie || !packet.Slice(8, 12).SequenceEqual(transactionId)) return false;
        var offset = HeaderLength;
        while (offset + 4 <= packet.Length)
        {
            var type = BinaryPrimitives.ReadUInt16BigEndian(packet[offset..]);
            var length = BinaryPrimitives.ReadUInt16BigEndian(packet[(offset + 2)..]);
            if (offset + 4 + length > packet.Length) return false;
            if (type == AttributeXorMappedAddress && length is 8 or 20)
            {
                var value = packet.Slice(offset + 4, length);
                var port = (ushort)(BinaryPrimitives.ReadUInt16BigEndian(value[2..]) ^ (MagicCookie >> 16));
                Span<byte> address = stackalloc byte[length - 4];
                for (var i = 0; i < address.Length; i++) address[i] = (byte)(value[4 + i] ^ packet[4 + i]);
                mapped = new System.Net.IPEndPoint(new System.Net.IPAddress(address), port);
                return true;
            }
            offset += 4 + ((length + 3) & ~3);
        }
        return false;
    }
}
