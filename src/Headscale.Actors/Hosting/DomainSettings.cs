using Headscale.Actors.Addressing;

namespace Headscale.Actors.Hosting;

/// <summary>
/// Operator settings the node lifecycle needs, bound by the host from config.yaml (the keys are
/// named on each property).
/// </summary>
public sealed record DomainSettings
{
    /// <summary><c>server_url</c>: the base of interactive AuthURLs (<c>{server_url}/register/{id}</c>).</summary>
    public Uri ServerUrl { get; init; } = new("http://127.0.0.1:8080");

    /// <summary><c>prefixes.v4</c>, <c>prefixes.v6</c>, <c>prefixes.allocation</c>.</summary>
    public AddressingSettings Addressing { get; init; } = AddressingSettings.Default;

    /// <summary><c>node.expiry</c>: key lifetime of nodes that ask for none; zero means never.</summary>
    public TimeSpan NodeExpiry { get; init; }

    /// <summary><c>node.ephemeral.inactivity_timeout</c>: how long a disconnected ephemeral node survives.</summary>
    public TimeSpan EphemeralInactivityTimeout { get; init; } = TimeSpan.FromSeconds(120);

    /// <summary><c>tuning.register_cache_expiration</c>: how long an interactive registration waits for approval.</summary>
    public TimeSpan RegisterCacheExpiration { get; init; } = TimeSpan.FromMinutes(15);

    /// <summary>bcrypt cost for new pre-auth key secrets (10 as Headscale; tests lower it).</summary>
    public int BcryptWorkFactor { get; init; } = 10;

    /// <summary>How long a facade waits for an actor's answer before giving up.</summary>
    public TimeSpan AskTimeout { get; init; } = TimeSpan.FromSeconds(10);
}
