using System.Net;
using Headscale.Actors.Nodes;
using Headscale.Actors.Nodes.Messages;
using Headscale.Derp.Keys;
using Headscale.Derp.Server;

namespace Headscale.Api.DerpRelay;

/// <summary>
/// <c>derp.server.verify_clients</c>: a DERP client is admitted only if its node key is the current key of a node of this
/// tailnet whose key has not expired. Each admission is recorded in a <see cref="DerpAdmissionLedger"/>; node changes
/// (<see cref="ApplyNodeChange"/>, fed by <see cref="DerpRevocationActor"/>) and the passing of expiry times
/// (<see cref="RevokeExpired"/>) raise <see cref="Revoked"/> for keys no longer valid, and the DERP server closes them.
/// </summary>
public sealed class NodeRegistryDerpVerifier(INodeService nodes, TimeProvider clock) : IDerpClientVerifier
{
    private readonly DerpAdmissionLedger _ledger = new();

    public event Action<DerpPublicKey>? Revoked;

    /// <summary>When the next admitted key expires (the revocation actor checks then), or null.</summary>
    public DateTimeOffset? NextExpiry => _ledger.NextExpiry;

    public async ValueTask<bool> IsAllowedAsync(DerpPublicKey nodeKey, IPAddress? source, CancellationToken cancellationToken)
    {
        var key = NodeKey.FromBytes(nodeKey.ToArray());
        if (await nodes.FindByNodeKeyAsync(key, cancellationToken) is not { } entry) return false;
        // The registry's index may lag the entity (a rotation in flight): the entity has the last word on key and expiry.
        if (await nodes.GetAsync(entry.Id, cancellationToken) is not { } node || node.NodeKey != key) return false;
        return _ledger.Admit(nodeKey, node.Id.Value, node.Expiry, clock.GetUtcNow());
    }

    /// <summary>Applies a published node state; the admitted keys it invalidates are revoked.</summary>
    public void ApplyNodeChange(NodeNotifications.NodeChanged change)
    {
        DerpPublicKey? current = change.Node is { } node && TryToDerpKey(node.NodeKey, out var parsed) ? parsed : null;
        Revoke(_ledger.OwnerChanged(change.Id.Value, change.Version, current, change.Node?.Expiry, clock.GetUtcNow()));
    }

    /// <summary>Revokes every admitted key whose expiry has passed.</summary>
    public void RevokeExpired() => Revoke(_ledger.TakeExpired(clock.GetUtcNow()));

    private void Revoke(IReadOnlyList<DerpPublicKey> keys)
    {
        foreach (var key in keys) Revoked?.Invoke(key);
    }

    private static bool TryToDerpKey(NodeKey key, out DerpPublicKey derpKey) => DerpPublicKey.TryParse(key.Value, out derpKey);
}
