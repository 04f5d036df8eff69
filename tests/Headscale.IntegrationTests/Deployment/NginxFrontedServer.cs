using System.Globalization;
using Headscale.IntegrationTests.ControlPlane;
using Headscale.IntegrationTests.Support;
using Headscale.Management.V1;
using Headscale.Protocol.Client;
using Headscale.Protocol.Keys;

namespace Headscale.IntegrationTests.Deployment;

/// <summary>
/// The real <c>headscale serve</c> as the compose stack runs it behind nginx: the control plane (nodes over Noise,
/// administered over its socket), the embedded DERP relay, and map keep-alives every 2 s so a test sees the stream's
/// idle traffic without waiting the default interval.
/// </summary>
public sealed class DerpEnabledControlServer : ControlServer
{
    private readonly int _stunPort = TestPorts.GetFree();

    /// <summary>verify_clients is off, as in DerpRelayEndToEndTests: the relay is under test here, not admission.</summary>
    protected override string ExtraConfig => string.Create(CultureInfo.InvariantCulture, $"""
        tuning:
          map_keepalive_interval: 2s
        derp:
          server:
            enabled: true
            verify_clients: false
            stun_listen_addr: 127.0.0.1:{_stunPort}
            private_key_path: derp_server_private.key

        """);
}

/// <summary>The test classes that put nginx in front of one shared <see cref="NginxFrontedServer"/>.</summary>
[CollectionDefinition(Name)]
public sealed class NginxFrontedServerCollection : ICollectionFixture<NginxFrontedServer>
{
    public const string Name = "real server behind nginx";
}

/// <summary>One <see cref="DerpEnabledControlServer"/> and a test certificate, shared by the <see cref="NginxFrontedServerCollection"/>.</summary>
public sealed class NginxFrontedServer : IAsyncLifetime
{
    private NginxCertificate? _certificate;

    public DerpEnabledControlServer Control { get; } = new();

    public NginxCertificate Certificate => _certificate ?? throw new InvalidOperationException("not initialized");

    public async ValueTask InitializeAsync()
    {
        await Control.InitializeAsync();
        _certificate = await NginxCertificate.CreateAsync(TestContext.Current.CancellationToken);
    }

    public async ValueTask DisposeAsync()
    {
        await Control.DisposeAsync();
        _certificate?.Dispose();
    }
}

/// <summary>
/// A real nginx running nginx.conf (with the test certificate) or nginx.dev.conf in front of the real server, and the
/// URL and HTTP client a Tailscale client would use to reach the control server through it.
/// </summary>
public sealed class ProxiedServer : IAsyncDisposable
{
    private readonly NginxFrontedServer _server;

    private ProxiedServer(NginxFrontedServer server, NginxProcess nginx, bool production)
    {
        _server = server;
        Nginx = nginx;
        Production = production;
        Url = production ? new Uri($"https://127.0.0.1:{nginx.Site.HttpsPort}") : new Uri($"http://127.0.0.1:{nginx.Site.HttpPort}");
        Http = production ? server.Certificate.CreateHttpClient(Url) : new HttpClient { BaseAddress = Url, Timeout = TimeSpan.FromSeconds(15) };
    }

    public NginxProcess Nginx { get; }

    public bool Production { get; }

    /// <summary>The control URL clients are given: nginx's HTTPS port in production, its plain port in development.</summary>
    public Uri Url { get; }

    public HttpClient Http { get; }

    /// <summary>The Noise key the server holds, to compare with what clients learn through nginx.</summary>
    public MachinePublicKey ServerNoiseKey => _server.Control.NoiseKey;

    public static async Task<ProxiedServer> StartAsync(NginxFrontedServer server, bool production, CancellationToken cancellationToken)
    {
        var site = production
            ? NginxSite.Production(server.Control.Process.Port, TestPorts.GetFree(), server.Certificate)
            : NginxSite.Development(server.Control.Process.Port, TestPorts.GetFree());
        return new ProxiedServer(server, await NginxProcess.StartAsync(site, cancellationToken), production);
    }

    /// <summary>The URL of <paramref name="path"/> through nginx with the given plain and TLS schemes (http/https, ws/wss).</summary>
    public Uri UrlOf(string path, string plainScheme, string tlsScheme) =>
        new UriBuilder(Url) { Scheme = Production ? tlsScheme : plainScheme, Path = path }.Uri;

    /// <summary>
    /// A node that knows only nginx's URL, as a client configured with <c>--login-server</c> does: it learns the Noise
    /// key with <c>GET /key</c> through nginx and registers with a fresh pre-auth key of <paramref name="user"/> over a
    /// ts2021 connection through nginx.
    /// </summary>
    public async Task<ControlNode> RegisteredNodeAsync(User user, bool webSocket, CancellationToken cancellationToken)
    {
        var serverKey = await Ts2021Client.FetchServerKeyAsync(Http, Url, ControlNode.DefaultCapabilityVersion, cancellationToken);
        var node = new ControlNode(Url, serverKey, _server.Control.UniqueName("proxied"), webSocket: webSocket);
        try
        {
            var result = await node.RegisterAsync(await _server.Control.CreateKeyAsync(user), cancellationToken);
            Assert.True(result.Succeeded, result.RawBody);
            // The register answer can come before the server's node index lists the new key; a map request in
            // that window is a 404 (a real client retries it). These tests are about nginx, so they wait it out.
            await _server.Control.WaitForNodesAsync(nodes => nodes.Any(n => n.NodeKey == node.NodeKey), TimeSpan.FromSeconds(30));
            return node;
        }
        catch
        {
            node.Dispose();
            throw;
        }
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await Nginx.DisposeAsync();
    }
}
