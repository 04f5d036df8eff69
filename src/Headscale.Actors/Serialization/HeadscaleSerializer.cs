using System.Text.Json;
using Akka.Actor;
using System.Runtime.Serialization;
using Akka.Serialization;

namespace Headscale.Actors.Serialization;

/// <summary>
/// The one serializer for everything persisted or sent between cluster members: System.Text.Json
/// with source generation and short permanent manifests. Never a reflection serializer for
/// persisted data.
/// </summary>
public sealed class HeadscaleSerializer : SerializerWithStringManifest
{
    /// <summary>Permanent serializer id; stored beside every journal row.</summary>
    public const int SerializerId = 150;

    public HeadscaleSerializer(ExtendedActorSystem system)
        : base(system)
    {
    }

    public override int Identifier => SerializerId;

    public override string Manifest(object o) =>
        SerializableTypes.ByType.TryGetValue(o.GetType(), out var entry)
            ? entry.Manifest
            : throw new ArgumentException($"{o.GetType()} has no manifest in {nameof(SerializableTypes)}", nameof(o));

    public override byte[] ToBinary(object obj) =>
        SerializableTypes.ByType.TryGetValue(obj.GetType(), out var entry)
            ? JsonSerializer.SerializeToUtf8Bytes(obj, entry.Info)
            : throw new ArgumentException($"{obj.GetType()} has no manifest in {nameof(SerializableTypes)}", nameof(obj));

    public override object FromBinary(byte[] bytes, string manifest) =>
        SerializableTypes.ByManifest.TryGetValue(manifest, out var info)
            ? JsonSerializer.Deserialize(bytes, info)
              ?? throw new SerializationException($"manifest '{manifest}' decoded to null")
            : throw new SerializationException($"unknown manifest '{manifest}'");
}
