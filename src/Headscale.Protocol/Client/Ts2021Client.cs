using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Headscale.Protocol.Keys;

namespace Headscale.Protocol.Client;

/// <summary>
/// An HTTP/2 client whose one connection runs over ts2021 (Noise), as a Tailscale client's control connection does.
/// All requests are multiplexed on that connection; if it breaks, the next request dials a new one.
/// Cheap enough to hold thousands per process: each connection costs a socket, two small pipes and three loops.
/// </summary>
public sealed class Ts2021Client : IDisposable
{
    private readonly Ts2021ClientOptions _options;
    private readonly SocketsHttpHandler _handler;
    private Ts2021Connection? _connection;
    private int _connectionCount;

    public Ts2021Client(Ts2021ClientOptions options)
    {
        _options = options;
        _handler = new SocketsHttpHandler
        {
            ConnectCallback = ConnectAsync,
            EnableMultipleHttp2Connections = false,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
            UseProxy = false,
            AllowAutoRedirect = false,
            UseCookies = false,
            AutomaticDecompression = DecompressionMethods.None,
        };
        var authority = options.Authority ?? options.ServerUrl.Authority;
        Http = new HttpClient(_handler, disposeHandler: true)
        {
            BaseAddress = new Uri("http://" + authority + "/"),
            DefaultRequestVersion = HttpVersion.Version20,
            DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact,
            Timeout = Timeout.InfiniteTimeSpan,
        };
    }

    /// <summary>
    /// The HTTP/2 client. Requests built by hand must set <c>Version = 2.0</c> and <c>VersionPolicy = RequestVersionExact</c>
    /// (use <see cref="CreateRequest"/>); the defaults only apply to the convenience methods.
    /// </summary>
    public HttpClient Http { get; }

    /// <summary>The most recent ts2021 connection (null before the first request).</summary>
    public Ts2021Connection? Connection => Volatile.Read(ref _connection);

    /// <summary>How many ts2021 connections this client has dialled.</summary>
    public int ConnectionCount => Volatile.Read(ref _connectionCount);

    public MachinePublicKey MachineKey => _options.MachineKey.PublicKey;

    public HttpRequestMessage CreateRequest(HttpMethod method, string path, HttpContent? content = null) => new(method, path)
    {
        Version = HttpVersion.Version20,
        VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        Content = content,
    };

    public Task<HttpResponseMessage> PostJsonAsync(string path, ReadOnlyMemory<byte> json, CancellationToken cancellationToken)
    {
        var content = new ReadOnlyMemoryContent(json);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return Http.SendAsync(CreateRequest(HttpMethod.Post, path, content), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
    }

    /// <summary>GET <c>/key?v=N</c> on the server's ordinary listener and returns its Noise public key.</summary>
    public static async Task<MachinePublicKey> FetchServerKeyAsync(
        HttpClient http, Uri serverUrl, int capabilityVersion, CancellationToken cancellationToken)
    {
        var uri = new Uri(serverUrl, $"/key?v={capabilityVersion}");
        using var response = await http.GetAsync(uri, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            throw new HttpRequestException($"GET {uri} answered {(int)response.StatusCode}", null, response.StatusCode);
        }

        var body = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        using var document = JsonDocument.Parse(body);
        if (!document.RootElement.TryGetProperty("publicKey", out var value) || value.ValueKind != JsonValueKind.String)
        {
            throw new InvalidDataException($"GET {uri} returned no \"publicKey\" string");
        }

        if (!MachinePublicKey.TryParse(value.GetString(), out var key, out var error) || key.IsZero)
        {
            throw new InvalidDataException($"GET {uri} returned an unusable \"publicKey\": {error ?? "zero key"}");
        }

        return key;
    }

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var connection = await Ts2021Connection.ConnectAsync(_options, cancellationToken).ConfigureAwait(false);
        Volatile.Write(ref _connection, connection);
        Interlocked.Increment(ref _connectionCount);
        return connection.Stream;
    }

    public void Dispose() => Http.Dispose();
}
