namespace Headscale.Actors.Serialization;

/// <summary>
/// Marks every message that is persisted or crosses cluster members. Such types are bound to
/// <see cref="HeadscaleSerializer"/> and must have a permanent manifest in <see cref="SerializableTypes"/>.
/// </summary>
public interface IHeadscaleSerializable;
