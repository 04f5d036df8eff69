using System.Net;
using Headscale.IntegrationTests.Support;

namespace Headscale.IntegrationTests.Deployment;

/// <summary>The test certificate and the stand-in upstream, shared by a test class.</summary>
public sealed class CertificateAndUpstreamFixture : IAsyncLifetime
{
    private NginxCertificate? _certificate;
    private HeaderEchoUpstream? _upstream;
    private HeaderEchoUpstream? _headplane;

    public NginxCertificate Certificate => _certificate ?? throw new InvalidOperationException("not initialized");

    public HeaderEchoUpstream Upstream => _upstream ?? throw new InvalidOperationException("not initialized");

    /// <summary>Stands in for Headplane, so routing to the second upstream is visible.</summary>
    public HeaderEchoUpstream Headplane => _headplane ?? throw new InvalidOperationException("not initialized");

    public async ValueTask InitializeAsync()
    {
        _certificate = await NginxCertificate.CreateAsync(TestContext.Current.CancellationToken);
        _upstream = await HeaderEchoUpstream.StartAsync(TestContext.Current.CancellationToken);
        _headplane = await HeaderEchoUpstream.StartAsync(TestContext.Current.CancellationToken, "headplane");
    }

    public async ValueTask DisposeAsync()
    {
        if (_upstream is not null)
        {
            await _upstream.DisposeAsync();
        }

        if (_headplane is not null)
        {
            await _headplane.DisposeAsync();
        }

        _certificate?.Dispose();
    }
}

/// <summary>
/// nginx/nginx.conf with a self-signed test certificate, run by the real nginx in front of
/// <see cref="HeaderEchoUpstream"/>. Each test gets its own nginx, so rate-limit state never leaks.
/// </summary>
public sealed class NginxProductionTests(CertificateAndUpstreamFixture fixture) : IClassFixture<CertificateAndUpstreamFixture>, IAsyncLifetime
{
    private NginxProcess? _nginx;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private NginxCertificate Certificate => fixture.Certificate;

    private NginxSite Site => _nginx!.Site;

    public async ValueTask InitializeAsync() =>
        _nginx = await NginxProcess.StartAsync(NginxSite.Production(fixture.Upstream.Port, fixture.Headplane.Port, Certificate), Ct);

    public async ValueTask DisposeAsync()
    {
        if (_nginx is not null)
        {
            await _nginx.DisposeAsync();
        }
    }

    [Theory]
    [InlineData("/api/v1/node?user=alice")]
    [InlineData("/health")]
    [InlineData("/ts2021")]
    [InlineData("/")]
    public async Task Plain_http_redirects_permanently_to_the_same_path_over_https(string path)
    {
        using var http = PlainHttp();

        using var response = await http.GetAsync(path, Ct);

        Assert.Equal(HttpStatusCode.MovedPermanently, response.StatusCode);
        Assert.Equal(new Uri("https://127.0.0.1" + path), response.Headers.Location);
    }

    [Fact]
    public async Task Acme_challenges_are_served_over_plain_http_from_the_webroot()
    {
        var challenges = Path.Combine(Site.Webroot, ".well-known", "acme-challenge");
        Directory.CreateDirectory(challenges);
        await File.WriteAllTextAsync(Path.Combine(challenges, "token-123"), "token-123.thumbprint", Ct);
        using var http = PlainHttp();

        using var found = await http.GetAsync("/.well-known/acme-challenge/token-123", Ct);
        using var missing = await http.GetAsync("/.well-known/acme-challenge/no-such-token", Ct);

        Assert.Equal(HttpStatusCode.OK, found.StatusCode);
        Assert.Equal("token-123.thumbprint", await found.Content.ReadAsStringAsync(Ct));
        Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
    }

    [Theory]
    [InlineData("/health")]
    [InlineData("/api/v1/node")]
    [InlineData("/metrics")]
    public async Task Https_responses_carry_the_security_headers(string path)
    {
        using var https = Https();

        using var response = await https.GetAsync(path, Ct);

        Assert.Equal("max-age=63072000; includeSubDomains", Header(response, "Strict-Transport-Security"));
        Assert.Equal("DENY", Header(response, "X-Frame-Options"));
        Assert.Equal("nosniff", Header(response, "X-Content-Type-Options"));
        Assert.Equal("strict-origin-when-cross-origin", Header(response, "Referrer-Policy"));
        Assert.Contains("frame-ancestors 'none'", Header(response, "Content-Security-Policy"), StringComparison.Ordinal);
        Assert.Contains("default-src 'self'", Header(response, "Content-Security-Policy"), StringComparison.Ordinal);
        Assert.NotNull(Header(response, "Permissions-Policy"));
        Assert.DoesNotContain(response.Headers.Server, s => s.Product?.Version is not null);
    }

    [Fact]
    public async Task Https_proxies_with_forwarded_proto_https_and_hides_metrics()
    {
        using var https = Https();

        var seen = await https.GetStringAsync("/api/v1/user", Ct);
        using var metrics = await https.GetAsync("/metrics", Ct);

        Assert.Contains("X-Forwarded-Proto: https\n", seen, StringComparison.Ordinal);
        Assert.Contains("X-Real-IP: 127.0.0.1\n", seen, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, metrics.StatusCode);
    }

    [Fact]
    public async Task Tls_1_2_and_1_3_are_accepted_and_tls_1_1_is_refused_by_the_server()
    {
        var tls12 = await OpenSslClient.HandshakeAsync(Site.HttpsPort, Ct, "-tls1_2");
        var tls13 = await OpenSslClient.HandshakeAsync(Site.HttpsPort, Ct, "-tls1_3");
        // SECLEVEL=0 lets the local client offer TLS 1.1 at all; the refusal must come from nginx.
        var tls11 = await OpenSslClient.HandshakeAsync(Site.HttpsPort, Ct, "-tls1_1", "-cipher", "DEFAULT@SECLEVEL=0");

        Assert.True(tls12.Succeeded, tls12.Output);
        Assert.True(tls13.Succeeded, tls13.Output);
        Assert.False(tls11.Succeeded, tls11.Output);
        if (tls11.ClientCannotOffer)
        {
            Assert.Skip("the local OpenSSL cannot offer TLS 1.1, so nginx's refusal cannot be observed");
        }

        Assert.True(tls11.ServerRefusedVersion, tls11.Output);
    }

    [Theory]
    [InlineData("ECDHE-ECDSA-AES128-SHA")]
    [InlineData("ECDHE-ECDSA-AES256-SHA384")]
    public async Task Tls_1_2_refuses_suites_without_aead(string cipher)
    {
        var handshake = await OpenSslClient.HandshakeAsync(Site.HttpsPort, Ct, "-tls1_2", "-cipher", cipher);

        Assert.False(handshake.Succeeded, handshake.Output);
        Assert.False(handshake.ClientCannotOffer, handshake.Output);
    }

    [Theory]
    [InlineData("/admin/machines", "headplane")]
    [InlineData("/admin", "headplane")]
    [InlineData("/api/v1/node", "headscale")]
    [InlineData("/register/abc", "headscale")]
    [InlineData("/key?v=106", "headscale")]
    public async Task Paths_are_routed_to_their_upstream_unchanged(string path, string upstream)
    {
        using var https = Https();

        var seen = await https.GetStringAsync(path, Ct);

        Assert.StartsWith($"upstream: {upstream}\nGET {path}\n", seen, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Api_burst_is_limited_with_429_while_unlimited_paths_keep_answering()
    {
        using var https = Https();

        var statuses = await RequestBurst.SendAsync(https, "/api/v1/node", 150, Ct);
        using var health = await https.GetAsync("/health", Ct);
        using var key = await https.GetAsync("/key?v=106", Ct);

        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        Assert.Contains(HttpStatusCode.OK, statuses);
        Assert.All(statuses, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, $"unexpected {s}"));
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        Assert.Equal(HttpStatusCode.OK, key.StatusCode); // another tier, its own allowance
    }

    [Fact]
    public async Task Registration_pages_get_the_strictest_limit()
    {
        using var https = Https();

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 20; i++)
        {
            using var response = await https.GetAsync($"/register/key-{i}", Ct);
            statuses.Add(response.StatusCode);
        }

        // 20 one-at-a-time requests stay inside the api tier's burst of 40; only the auth tier
        // (10 per minute, burst 10) rejects some of them.
        Assert.Equal(HttpStatusCode.OK, statuses[0]);
        Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
        Assert.All(statuses, s => Assert.True(s is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, $"unexpected {s}"));
    }

    private HttpClient PlainHttp() => new(new SocketsHttpHandler { AllowAutoRedirect = false })
    {
        BaseAddress = new Uri($"http://127.0.0.1:{Site.HttpPort}"),
        Timeout = TimeSpan.FromSeconds(15),
    };

    private HttpClient Https() => Certificate.CreateHttpClient(new Uri($"https://127.0.0.1:{Site.HttpsPort}"));

    private static string? Header(HttpResponseMessage response, string name) =>
        response.Headers.TryGetValues(name, out var values) ? string.Join(", ", values)
        : response.Content.Headers.TryGetValues(name, out values) ? string.Join(", ", values)
        : null;
}
