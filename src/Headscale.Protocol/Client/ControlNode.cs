using System.Buffers;
using System.Net;
using System.Security.Cryptography;
using System.Text.Json;
using Headscale.Protocol.Keys;

namespace Headscale.Protocol.Client;

/// <summary>
/// A Tailscale node as the control server sees it: a machine key, a node key and one ts2021 connection, with the
/// register and map calls a real client makes. For protocol tests and the load generator.
/// </summary>
public sealed class ControlNode : IDisposable
{
    public const ushort DefaultCapabilityVersion = 125;

    private readonly Ts2021Client _transport;

    public ControlNode(
        Uri serverUrl, MachinePublicKey serverKey, string hostname, ushort capabilityVersion = DefaultCapabilityVersion, bool webSocket = false,
        System.Buffers.MemoryPool<byte>? bufferPool = null)
    {
        Hostname = hostname;
        CapabilityVersion = capabilityVersion;
        MachineKey = MachinePrivateKey.Generate();
        NodeKey = NewNodeKey();
        DiscoKey = "discokey:" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));
        _transport = new Ts2021Client(new Ts2021ClientOptions
        {
            ServerUrl = serverUrl,
            MachineKey = MachineKey,
            ServerKey = serverKey,
            ProtocolVersion = capabilityVersion,
            UseWebSocket = webSocket,
            BufferPool = bufferPool,
        });
    }

    public MachinePrivateKey MachineKey { get; }

    /// <summary>The node key in its text form (<c>nodekey:…</c>); a client only ever sends the public half.</summary>
    public string NodeKey { get; private set; }

    public string DiscoKey { get; }

    public string Hostname { get; set; }

    public ushort CapabilityVersion { get; }

    public Ts2021Client Transport => _transport;

    /// <summary>A fresh random node public key in text form.</summary>
    public static string NewNodeKey() => "nodekey:" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

    /// <summary>Registers with a pre-auth key (or interactively when <paramref name="authKey"/> is null).</summary>
    public Task<RegisterResult> RegisterAsync(string? authKey, CancellationToken cancellationToken, bool ephemeral = false) =>
        SendRegisterAsync(new RegisterCall(NodeKey, null, authKey, null, null, ephemeral), cancellationToken);

    /// <summary>The follow-up long-poll of an interactive login: blocks until the registration is approved or refused.</summary>
    public Task<RegisterResult> FollowUpAsync(string authUrl, CancellationToken cancellationToken) =>
        SendRegisterAsync(new RegisterCall(NodeKey, null, null, null, authUrl, false), cancellationToken);

    /// <summary>Rotates to a new node key, sending the current one as <c>OldNodeKey</c>, as a client does when its key expired.</summary>
    public async Task<RegisterResult> RotateNodeKeyAsync(string? authKey, CancellationToken cancellationToken)
    {
        var old = NodeKey;
        var next = NewNodeKey();
        var result = await SendRegisterAsync(new RegisterCall(next, old, authKey, null, null, false), cancellationToken).ConfigureAwait(false);
        if (result.Succeeded)
        {
            NodeKey = next;
        }

        return result;
    }

    /// <summary><c>tailscale logout</c>: an expiry in the past (the client sends 1970-01-01T00:02:03Z).</summary>
    public Task<RegisterResult> LogoutAsync(CancellationToken cancellationToken) =>
        SendRegisterAsync(new RegisterCall(NodeKey, null, null, DateTimeOffset.FromUnixTimeSeconds(123), null, false), cancellationToken);

    /// <summary>A plain register with no auth: what a client sends at start to learn its state.</summary>
    public Task<RegisterResult> RefreshAsync(CancellationToken cancellationToken) =>
        SendRegisterAsync(new RegisterCall(NodeKey, null, null, null, null, false), cancellationToken);

    /// <summary>
    /// Opens the map long-poll (<c>Stream: true</c>). The returned stream yields the full map first, then deltas and
    /// keep-alives. A non-200 answer throws with the server's message.
    /// </summary>
    public async Task<MapStream> StreamMapAsync(CancellationToken cancellationToken, bool zstd = true, IReadOnlyList<string>? endpoints = null)
    {
        var body = MapRequestBody(stream: true, zstd, omitPeers: false, endpoints);
        var response = await _transport.PostJsonAsync("/machine/map", body, cancellationToken).ConfigureAwait(false);
        if (response.StatusCode != HttpStatusCode.OK)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            response.Dispose();
            throw new HttpRequestException($"/machine/map answered {(int)response.StatusCode}: {text.Trim()}", null, response.StatusCode);
        }

        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        return new MapStream(response, stream, zstd);
    }

    /// <summary>A lite update (<c>Stream: false</c>, <c>OmitPeers: true</c>): reports endpoints and Hostinfo.</summary>
    public async Task<HttpStatusCode> UpdateMapAsync(IReadOnlyList<string> endpoints, CancellationToken cancellationToken)
    {
        using var response = await _transport.PostJsonAsync(
            "/machine/map", MapRequestBody(stream: false, zstd: false, omitPeers: true, endpoints), cancellationToken).ConfigureAwait(false);
        return response.StatusCode;
    }

    /// <summary>Routes this node announces in Hostinfo.RoutableIPs from now on.</summary>
    public IReadOnlyList<string> AnnouncedRoutes { get; set; } = [];

    private ReadOnlyMemory<byte> MapRequestBody(bool stream, bool zstd, bool omitPeers, IReadOnlyList<string>? endpoints)
    {
        var body = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(body))
        {
            json.WriteStartObject();
            json.WriteNumber("Version", CapabilityVersion);
            json.WriteString("NodeKey", NodeKey);
            json.WriteString("DiscoKey", DiscoKey);
            json.WriteBoolean("Stream", stream);
            if (zstd)
            {
                json.WriteString("Compress", "zstd");
            }

            json.WriteBoolean("OmitPeers", omitPeers);
            json.WriteStartArray("Endpoints");
            foreach (var endpoint in endpoints ?? [])
            {
                json.WriteStringValue(endpoint);
            }

            json.WriteEndArray();
            WriteHostinfo(json);
            json.WriteEndObject();
        }

        return body.WrittenMemory;
    }

    /// <summary>Sends a raw JSON body to an inner path such as <c>/machine/register</c> (bad-input tests).</summary>
    public async Task<(HttpStatusCode Status, string Body)> PostRawAsync(string path, ReadOnlyMemory<byte> body, CancellationToken cancellationToken)
    {
        using var response = await _transport.PostJsonAsync(path, body, cancellationToken).ConfigureAwait(false);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false));
    }

    private async Task<RegisterResult> SendRegisterAsync(RegisterCall call, CancellationToken cancellationToken)
    {
        var body = new ArrayBufferWriter<byte>(512);
        using (var json = new Utf8JsonWriter(body))
        {
            json.WriteStartObject();
            json.WriteNumber("Version", CapabilityVersion);
            json.WriteString("NodeKey", call.NodeKey);
            json.WriteString("OldNodeKey", call.OldNodeKey ?? "nodekey:" + new string('0', 64));
            if (call.AuthKey is not null)
            {
                json.WriteStartObject("Auth");
                json.WriteString("AuthKey", call.AuthKey);
                json.WriteEndObject();
            }

            json.WriteString("Expiry", call.Expiry?.ToString("yyyy-MM-dd'T'HH:mm:ssK", System.Globalization.CultureInfo.InvariantCulture) ?? "0001-01-01T00:00:00Z");
            json.WriteString("Followup", call.Followup ?? "");
            WriteHostinfo(json);
            if (call.Ephemeral)
            {
                json.WriteBoolean("Ephemeral", true);
            }

            json.WriteEndObject();
        }

        using var response = await _transport.PostJsonAsync("/machine/register", body.WrittenMemory, cancellationToken).ConfigureAwait(false);
        var text = await response.Content.ReadAsByteArrayAsync(cancellationToken).ConfigureAwait(false);
        return RegisterResult.Parse(response.StatusCode, text);
    }

    internal void WriteHostinfo(Utf8JsonWriter json)
    {
        json.WriteStartObject("Hostinfo");
        json.WriteString("IPNVersion", "1.86.2");
        json.WriteString("OS", "linux");
        json.WriteString("Hostname", Hostname);
        if (AnnouncedRoutes.Count > 0)
        {
            json.WriteStartArray("RoutableIPs");
            foreach (var route in AnnouncedRoutes)
            {
                json.WriteStringValue(route);
            }

            json.WriteEndArray();
        }

        json.WriteEndObject();
    }

    public void Dispose() => _transport.Dispose();

    private sealed record RegisterCall(string NodeKey, string? OldNodeKey, string? AuthKey, DateTimeOffset? Expiry, string? Followup, bool Ephemeral);
}

/// <summary>What <c>/machine/register</c> answered.</summary>
public sealed record RegisterResult(
    HttpStatusCode Status,
    string Error,
    string AuthUrl,
    bool MachineAuthorized,
    bool NodeKeyExpired,
    long UserId,
    string LoginName,
    string RawBody)
{
    public bool Succeeded => Status == HttpStatusCode.OK && Error.Length == 0 && AuthUrl.Length == 0 && MachineAuthorized;

    public static RegisterResult Parse(HttpStatusCode status, byte[] body)
    {
        var raw = System.Text.Encoding.UTF8.GetString(body);
        if (status != HttpStatusCode.OK)
        {
            return new RegisterResult(status, raw, "", false, false, 0, "", raw);
        }

        using var document = JsonDocument.Parse(body);
        var root = document.RootElement;
        return new RegisterResult(
            status,
            String(root, "Error"),
            String(root, "AuthURL"),
            Bool(root, "MachineAuthorized"),
            Bool(root, "NodeKeyExpired"),
            root.TryGetProperty("User", out var user) && user.TryGetProperty("ID", out var id) ? id.GetInt64() : 0,
            root.TryGetProperty("Login", out var login) ? String(login, "LoginName") : "",
            raw);
    }

    private static string String(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()! : "";

    private static bool Bool(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.True;
}
