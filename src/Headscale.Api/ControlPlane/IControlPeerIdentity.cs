using Headscale.Actors.Nodes;

namespace Headscale.Api.ControlPlane;

/// <summary>
/// The machine key the Noise handshake authenticated, as an <see cref="HttpContext"/> feature of
/// every request carried inside that Noise connection. The control-protocol transport sets it;
/// its absence means the request did not come through Noise.
/// </summary>
public interface IControlPeerIdentity
{
    MachineKey MachinePublicKey { get; }
}

/// <summary>The plain implementation the transport (or a test) puts into <c>HttpContext.Features</c>.</summary>
public sealed record ControlPeerIdentity(MachineKey MachinePublicKey) : IControlPeerIdentity;
