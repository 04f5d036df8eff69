namespace Headscale.Api.Hosting;

/// <summary>Which configured listener a connection arrived on.</summary>
public enum ListenerKind
{
    /// <summary><c>listen_addr</c>: the control protocol, REST, web pages, health.</summary>
    Main,

    /// <summary><c>metrics_listen_addr</c>: Prometheus metrics and debug pages; never public.</summary>
    Metrics,
}

/// <summary>Set on each connection by the listener's connection middleware.</summary>
public sealed record ListenerFeature(ListenerKind Kind);

/// <summary>Endpoint metadata: the listener an endpoint is served on (endpoints without it are Main-only).</summary>
public sealed record ServedOnAttribute(ListenerKind Kind);
