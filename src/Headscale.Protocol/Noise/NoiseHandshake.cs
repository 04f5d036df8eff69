using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Headscale.Protocol.Crypto;
using Headscale.Protocol.Keys;

namespace Headscale.Protocol.Noise;

/// <summary>Why the server refused an initiation. The first three get an error message; the others just close.</summary>
public enum InitiationFailure
{
    None,
    WrongSize,
    WrongType,
    WrongLength,
    AuthenticationFailed,
}

/// <summary>Result of <see cref="NoiseHandshake.Respond"/>.</summary>
public readonly record struct ResponderResult(InitiationFailure Failure, NoiseTransportKeys? Keys, ushort ProtocolVersion)
{
    public bool Succeeded => Failure == InitiationFailure.None;

    /// <summary>The fixed text Tailscale's server sends in an error message for this failure, or null if it sends none.</summary>
    public string? ErrorMessageText => Failure switch
    {
        InitiationFailure.WrongSize => "wrong handshake initiation size",
        InitiationFailure.WrongType => "unexpected handshake message type",
        InitiationFailure.WrongLength => "wrong handshake initiation length",
        _ => null,
    };
}

/// <summary>
/// Noise IK handshake with Tailscale's prologue and message layouts (spec §d.2–d.3). The client is the initiator and
/// already knows the server's static key; the whole handshake is one message each way.
/// </summary>
public static class NoiseHandshake
{
    /// <summary>
    /// Server side: checks and consumes the 101-byte initiation, writes the 51-byte response into <paramref name="response"/>.
    /// </summary>
    /// <param name="ephemeralPrivateKey">Only for known-answer tests; empty means a fresh random key.</param>
    public static ResponderResult Respond(
        ReadOnlySpan<byte> initiation,
        MachinePrivateKey serverKey,
        Span<byte> response,
        ReadOnlySpan<byte> ephemeralPrivateKey = default)
    {
        if (initiation.Length != NoiseMessages.InitiationSize)
        {
            return new ResponderResult(InitiationFailure.WrongSize, null, 0);
        }

        var version = BinaryPrimitives.ReadUInt16BigEndian(initiation);
        if (initiation[2] != NoiseMessages.TypeInitiation)
        {
            return new ResponderResult(InitiationFailure.WrongType, null, version);
        }

        if (BinaryPrimitives.ReadUInt16BigEndian(initiation[3..]) != NoiseMessages.InitiationPayloadSize)
        {
            return new ResponderResult(InitiationFailure.WrongLength, null, version);
        }

        var serverPublic = serverKey.PublicKey;
        using var state = new SymmetricState(version, serverPublic.Bytes);
        var clientEphemeral = initiation.Slice(5, 32);
        var encryptedStatic = initiation.Slice(37, 48);
        var initiationTag = initiation.Slice(85, 16);

        Span<byte> clientStatic = stackalloc byte[32];
        state.MixHash(clientEphemeral);
        if (!state.MixDh(serverKey.Bytes, clientEphemeral)
            || !state.DecryptAndHash(encryptedStatic, clientStatic)
            || !state.MixDh(serverKey.Bytes, clientStatic)
            || !state.DecryptAndHash(initiationTag, []))
        {
            return new ResponderResult(InitiationFailure.AuthenticationFailed, null, version);
        }

        Span<byte> ephemeral = stackalloc byte[32];
        try
        {
            FillEphemeral(ephemeralPrivateKey, ephemeral);
            response[0] = NoiseMessages.TypeResponse;
            BinaryPrimitives.WriteUInt16BigEndian(response[1..], NoiseMessages.ResponsePayloadSize);
            var serverEphemeralPublic = response.Slice(3, 32);
            X25519.DerivePublicKey(ephemeral, serverEphemeralPublic);
            state.MixHash(serverEphemeralPublic);
            if (!state.MixDh(ephemeral, clientEphemeral) || !state.MixDh(ephemeral, clientStatic))
            {
                return new ResponderResult(InitiationFailure.AuthenticationFailed, null, version);
            }

            state.EncryptAndHash([], response.Slice(35, 16));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(ephemeral);
        }

        var (k1, k2) = state.Split();
        var keys = new NoiseTransportKeys(k2, k1, state.Hash.ToArray(), version, new MachinePublicKey(clientStatic));
        return new ResponderResult(InitiationFailure.None, keys, version);
    }

    /// <summary>Client side, first half: writes the 101-byte initiation and returns the state needed to read the response.</summary>
    /// <param name="ephemeralPrivateKey">Only for known-answer tests; empty means a fresh random key.</param>
    public static NoiseInitiator Initiate(
        ushort protocolVersion,
        MachinePrivateKey machineKey,
        MachinePublicKey serverKey,
        Span<byte> initiation,
        ReadOnlySpan<byte> ephemeralPrivateKey = default)
    {
        var ephemeral = new byte[32];
        FillEphemeral(ephemeralPrivateKey, ephemeral);
        var state = new SymmetricState(protocolVersion, serverKey.Bytes);

        BinaryPrimitives.WriteUInt16BigEndian(initiation, protocolVersion);
        initiation[2] = NoiseMessages.TypeInitiation;
        BinaryPrimitives.WriteUInt16BigEndian(initiation[3..], NoiseMessages.InitiationPayloadSize);
        var ephemeralPublic = initiation.Slice(5, 32);
        X25519.DerivePublicKey(ephemeral, ephemeralPublic);
        state.MixHash(ephemeralPublic);

        var machinePublic = machineKey.PublicKey;
        if (!state.MixDh(ephemeral, serverKey.Bytes))
        {
            throw new NoiseProtocolException("server key is a low-order point");
        }

        state.EncryptAndHash(machinePublic.Bytes, initiation.Slice(37, 48));
        if (!state.MixDh(machineKey.Bytes, serverKey.Bytes))
        {
            throw new NoiseProtocolException("server key is a low-order point");
        }

        state.EncryptAndHash([], initiation.Slice(85, 16));
        return new NoiseInitiator(state, ephemeral, machineKey, serverKey, protocolVersion);
    }

    private static void FillEphemeral(ReadOnlySpan<byte> forced, Span<byte> ephemeral)
    {
        if (forced.IsEmpty)
        {
            X25519.GeneratePrivateKey(ephemeral);
        }
        else
        {
            forced[..32].CopyTo(ephemeral);
        }
    }
}

/// <summary>Client state between sending the initiation and receiving the response. Use once.</summary>
public sealed class NoiseInitiator : IDisposable
{
    private readonly SymmetricState _state;
    private readonly byte[] _ephemeral;
    private readonly MachinePrivateKey _machineKey;
    private readonly MachinePublicKey _serverKey;
    private readonly ushort _version;

    internal NoiseInitiator(SymmetricState state, byte[] ephemeral, MachinePrivateKey machineKey, MachinePublicKey serverKey, ushort version)
    {
        _state = state;
        _ephemeral = ephemeral;
        _machineKey = machineKey;
        _serverKey = serverKey;
        _version = version;
    }

    /// <summary>
    /// Reads the header of the server's first message: how many payload bytes follow, after checking the type.
    /// An error message (type 3) is returned as a negative value; its text follows.
    /// </summary>
    public static int PayloadLength(ReadOnlySpan<byte> header, out bool isError)
    {
        var length = BinaryPrimitives.ReadUInt16BigEndian(header[1..]);
        isError = header[0] == NoiseMessages.TypeError;
        if (!isError && header[0] != NoiseMessages.TypeResponse)
        {
            throw new NoiseProtocolException($"unexpected handshake response message type {header[0]}");
        }

        if (!isError && length != NoiseMessages.ResponsePayloadSize)
        {
            throw new NoiseProtocolException($"wrong handshake response length {length}");
        }

        return length;
    }

    /// <summary>Consumes the 51-byte response (or throws with the server's error text) and returns the transport keys.</summary>
    public NoiseTransportKeys Complete(ReadOnlySpan<byte> response)
    {
        if (response.Length >= NoiseMessages.HeaderSize && response[0] == NoiseMessages.TypeError)
        {
            throw new NoiseProtocolException($"server error: \"{Encoding.UTF8.GetString(response[NoiseMessages.HeaderSize..])}\"");
        }

        if (response.Length != NoiseMessages.ResponseSize)
        {
            throw new NoiseProtocolException($"handshake response must be {NoiseMessages.ResponseSize} bytes, got {response.Length}");
        }

        PayloadLength(response, out _);
        var serverEphemeral = response.Slice(3, 32);
        _state.MixHash(serverEphemeral);
        if (!_state.MixDh(_ephemeral, serverEphemeral)
            || !_state.MixDh(_machineKey.Bytes, serverEphemeral)
            || !_state.DecryptAndHash(response.Slice(35, 16), []))
        {
            throw new NoiseProtocolException("handshake response failed authentication");
        }

        var (k1, k2) = _state.Split();
        return new NoiseTransportKeys(k1, k2, _state.Hash.ToArray(), _version, _serverKey);
    }

    public void Dispose()
    {
        CryptographicOperations.ZeroMemory(_ephemeral);
        _state.Dispose();
    }
}
