using System.Collections.Immutable;
using Akka.Actor;
using Akka.Configuration;
using Akka.Serialization;
using Headscale.Actors.ApiKeys;
using Headscale.Actors.Auditing;
using Headscale.Actors.Identity;
using Headscale.Actors.Policy;
using Headscale.Actors.Serialization;

namespace Headscale.Actors.Tests;

public sealed class SerializationTests : IDisposable
{
    private readonly ActorSystem _system;

    public SerializationTests()
    {
        // The same binding the server uses: every IHeadscaleSerializable goes to HeadscaleSerializer.
        var config = ConfigurationFactory.ParseString($$"""
            akka.actor.serializers.headscale = "{{typeof(HeadscaleSerializer).AssemblyQualifiedName}}"
            akka.actor.serialization-bindings {
              "{{typeof(IHeadscaleSerializable).AssemblyQualifiedName}}" = headscale
            }
            akka.actor.serialization-identifiers {
              "{{typeof(HeadscaleSerializer).AssemblyQualifiedName}}" = {{HeadscaleSerializer.SerializerId}}
            }
            """);
        _system = ActorSystem.Create("serialization", config);
    }

    public static TheoryData<object> Samples() =>
    [
        new IdAllocatorEvents.IdsReserved(IdKind.Node, 128),
        new IdAllocatorCommands.AllocateId(IdKind.User),
        new IdAllocatorCommands.IdAllocated(IdKind.PreAuthKey, ulong.MaxValue),
        new IdAllocatorState(ImmutableDictionary<IdKind, ulong>.Empty.Add(IdKind.Node, 64).Add(IdKind.ApiKey, 3)),
        Key,
        new ApiKeyState(ImmutableDictionary<string, ApiKeyRecord>.Empty.Add(Key.Prefix, Key), 7),
        new ApiKeyCommands.CreateApiKey("abcdefg", "$2a$10$hash", At, At, CliCause),
        new ApiKeyCommands.ExpireApiKey("abcdefg", At, At, ApiCause),
        new ApiKeyCommands.DeleteApiKey("abcdefg", At, CliCause),
        new ApiKeyCommands.GetApiKey("abcdefg"),
        ApiKeyCommands.ListApiKeys.Instance,
        new ApiKeyCommands.ApiKeyResult(ApiKeyCommands.ApiKeyResultCode.Conflict, Key, "exists"),
        new ApiKeyCommands.ApiKeyList([Key]),
        new ApiKeyEvents.ApiKeyCreated(3, "abcdefg", "$2a$10$hash", At, At, CliCause),
        new ApiKeyEvents.ApiKeyExpired("abcdefg", At, At, ApiCause),
        new ApiKeyEvents.ApiKeyDeleted("abcdefg", At, Cause.System),
        new PolicyCommands.SetPolicy("{\"acls\":[]}", At, ApiCause),
        PolicyCommands.GetPolicy.Instance,
        new PolicyCommands.PolicyResult(PolicyCommands.PolicyResultCode.Invalid, "", null, 4, "parse error"),
        new PolicyState(2, "{}", At),
        new PolicyEvents.PolicyChanged(2, "{}", At, CliCause),
    ];

    private static readonly DateTimeOffset At = new(2026, 11, 25, 6, 30, 0, TimeSpan.FromHours(1));
    private static readonly Cause CliCause = new(CauseKind.Cli, "");
    private static readonly Cause ApiCause = new(CauseKind.ApiKey, "abcdefg");
    private static readonly ApiKeyRecord Key = new(7, "abcdefg", "$2a$10$hash", null, At, At.AddDays(1));

    [Theory]
    [MemberData(nameof(Samples))]
    public void Every_serializable_type_round_trips_through_our_serializer(object sample)
    {
        var serializer = _system.Serialization.FindSerializerFor(sample);
        Assert.IsType<HeadscaleSerializer>(serializer);

        var bytes = serializer.ToBinary(sample);
        var manifest = Akka.Serialization.Serialization.ManifestFor(serializer, sample);
        var back = _system.Serialization.Deserialize(bytes, serializer.Identifier, manifest);

        if (sample is IdAllocatorState state)
        {
            var restored = Assert.IsType<IdAllocatorState>(back);
            Assert.Equal(state.ReservedUpTo.OrderBy(p => p.Key), restored.ReservedUpTo.OrderBy(p => p.Key));
        }
        else if (sample is ApiKeyState keys)
        {
            var restored = Assert.IsType<ApiKeyState>(back);
            Assert.Equal(keys.LastId, restored.LastId);
            Assert.Equal(keys.Keys.OrderBy(p => p.Key), restored.Keys.OrderBy(p => p.Key));
        }
        else if (sample is ApiKeyCommands.ApiKeyList list)
        {
            Assert.Equal(list.Keys, Assert.IsType<ApiKeyCommands.ApiKeyList>(back).Keys);
        }
        else
        {
            Assert.Equal(sample, back);
        }
    }

    [Fact]
    public void Every_registered_type_has_a_sample_and_a_unique_manifest()
    {
        var sampled = Samples().Select(row => row.Data.GetType()).ToHashSet();
        Assert.Equal(SerializableTypes.ByType.Keys.OrderBy(t => t.FullName), sampled.OrderBy(t => t.FullName));
        Assert.Equal(SerializableTypes.ByType.Count, SerializableTypes.ByManifest.Count);
    }

    [Fact]
    public void Manifests_are_permanent()
    {
        // Changing any of these breaks every journal written before: add new manifests instead.
        Assert.Equal("ida.r", SerializableTypes.ByType[typeof(IdAllocatorEvents.IdsReserved)].Manifest);
        Assert.Equal("ida.s", SerializableTypes.ByType[typeof(IdAllocatorState)].Manifest);
        Assert.Equal(150, HeadscaleSerializer.SerializerId);
    }

    [Fact]
    public void Unknown_manifest_and_unregistered_type_are_rejected()
    {
        var serializer = (SerializerWithStringManifest)_system.Serialization.FindSerializerForType(typeof(IHeadscaleSerializable));
        Assert.Throws<System.Runtime.Serialization.SerializationException>(() => serializer.FromBinary([1, 2], "no-such"));
        Assert.Throws<ArgumentException>(() => serializer.ToBinary("a string"));
    }

    public void Dispose() => _system.Dispose();
}
