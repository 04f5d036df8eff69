using System.Collections.Immutable;
using Headscale.Actors.Persistence;

namespace Headscale.Actors.Hosting;

/// <summary>Everything the actor layer needs from configuration, already validated.</summary>
public sealed record HeadscaleActorsOptions
{
    /// <summary>The ActorSystem name; every member of one cluster must use the same.</summary>
    public string SystemName { get; init; } = "headscale";

    public required DatabaseSettings Database { get; init; }

    public ClusterSettings Cluster { get; init; } = new();

    /// <summary>Prefixes, expiry and registration settings of the node lifecycle.</summary>
    public DomainSettings Domain { get; init; } = new();

    /// <summary>The per-host network map: map settings from the server and the policy source.</summary>
    public NetworkMapOptions NetworkMap { get; init; } = new();

    /// <summary>Directory holding the <c>*.conf</c> HOCON fallbacks; null uses the one beside the binaries.</summary>
    public string? HoconDirectory { get; init; }
}

/// <summary>
/// Akka.Remote and cluster membership. With no seed nodes the member joins itself and forms a
/// one-member cluster, which is how a single host runs.
/// </summary>
public sealed record ClusterSettings
{
    public string Hostname { get; init; } = "127.0.0.1";

    /// <summary>Akka.Remote port; 0 picks a free port (fine for a single host).</summary>
    public int Port { get; init; }

    public ImmutableArray<string> SeedNodes { get; init; } = [];
}
