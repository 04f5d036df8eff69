using System.Net;
using Headscale.Actors.Nodes;
using Headscale.Derp.Keys;
using Headscale.Derp.Server;

namespace Headscale.Api.DerpRelay;

/// <summary>
/// <c>derp.server.verify_clients</c>: a DERP client is admitted only if its node key belongs to a
/// node of this tailnet, as the node registry knows it at connect time.
/// </summary>
public sealed class NodeRegistryDerpVerifier(INodeService nodes) : IDerpClientVerifier
{
    public async ValueTask<bool> IsAllowedAsync(DerpPublicKey nodeKey, IPAddress? source, CancellationToken cancellationToken) =>
        await nodes.FindByNodeKeyAsync(NodeKey.FromBytes(nodeKey.ToArray()), cancellationToken) is not null;

    // Revocation of connected clients needs the node registry's change feed; not wired yet.
    public event Action<DerpPublicKey>? Revoked { add { } remove { } }
}
