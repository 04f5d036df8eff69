using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;
using Headscale.Actors;
using Headscale.Actors.Registration;
using Headscale.Api.ControlPlane;
using Headscale.IntegrationTests.Support;

namespace Headscale.IntegrationTests;

/// <summary>
/// POST /machine/register and GET /register/{id} over HTTP/1.1, with a test middleware standing in
/// for the Noise transport's machine-key feature. Covers each flow once end to end and every kind
/// of bad input. One application serves the class; each test uses its own users, keys and machines.
/// </summary>
public sealed class MachineRegisterEndpointTests(RegisterEndpointHost host) : IClassFixture<RegisterEndpointHost>
{
    private const string ZeroTime = "0001-01-01T00:00:00Z";
    private static readonly string ZeroNodeKey = "nodekey:" + new string('0', 64);
    private readonly RegisterEndpointHost _host = host;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task A_pre_auth_key_registers_and_the_response_uses_go_field_names()
    {
        var (_, name) = await _host.CreateUserAsync(Ct);
        var key = await _host.CreateKeyAsync((await _host.Users.GetByNameAsync(name, Ct))!.Id, Ct);

        using var response = await _host.PostRegisterAsync(RegisterEndpointHost.NewMachineKey(), JsonContent.Create(Body(RegisterEndpointHost.NewNodeKey(), key)), Ct);
        var json = JsonNode.Parse(await response.Content.ReadAsStringAsync(Ct))!;

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(json["MachineAuthorized"]!.GetValue<bool>());
        Assert.False(json["NodeKeyExpired"]!.GetValue<bool>());
        Assert.Equal("", json["AuthURL"]!.GetValue<string>());
        Assert.Equal("", json["Error"]!.GetValue<string>());
        Assert.Equal(name, json["Login"]!["LoginName"]!.GetValue<string>());
        Assert.Equal(json["User"]!["ID"]!.GetValue<long>(), json["Login"]!["ID"]!.GetValue<long>());
        Assert.Null(json["NodeKeySignature"]);
    }

    [Fact]
    public async Task Interactive_login_shows_the_register_page_and_the_followup_returns_after_approval()
    {
        var (_, name) = await _host.CreateUserAsync(Ct);
        var machine = RegisterEndpointHost.NewMachineKey();
        var nodeKey = RegisterEndpointHost.NewNodeKey();

        var first = await _host.RegisterAsync(machine, Body(nodeKey), Ct);
        Assert.StartsWith(_host.BaseAddress + "register/", first.AuthUrl);
        var id = first.AuthUrl[(first.AuthUrl.LastIndexOf('/') + 1)..];

        var page = await _host.Client.GetStringAsync(new Uri(first.AuthUrl), Ct);
        Assert.Contains($"headscale nodes register --key {id} --user USERNAME", page);

        var followup = _host.RegisterAsync(machine, Body(nodeKey, followup: first.AuthUrl), Ct);
        var approved = await _host.Nodes.RegisterPendingAsync(id, name, DateTimeOffset.UtcNow, Cause.Cli("nodes register"), Ct);
        var done = await followup.WaitAsync(TimeSpan.FromSeconds(20), Ct);

        Assert.Equal(ResultCode.Ok, approved.Result.Code);
        Assert.True(done.MachineAuthorized);
        Assert.Equal(name, done.Login.LoginName);
        Assert.Equal("", done.AuthUrl);
    }

    [Fact]
    public async Task Logout_with_the_clients_1970_instant_in_a_local_offset_expires_the_node()
    {
        var (user, _) = await _host.CreateUserAsync(Ct);
        var key = await _host.CreateKeyAsync(user, Ct);
        var machine = RegisterEndpointHost.NewMachineKey();
        var nodeKey = RegisterEndpointHost.NewNodeKey();
        Assert.True((await _host.RegisterAsync(machine, Body(nodeKey, key), Ct)).MachineAuthorized);

        var logout = await _host.RegisterAsync(machine, Body(nodeKey, expiry: "1970-01-01T01:02:03+01:00"), Ct);

        Assert.True(logout.NodeKeyExpired);
        Assert.True((await _host.RegisterAsync(machine, Body(nodeKey, expiry: "2026-01-02T03:04:05.123456789Z"), Ct)).NodeKeyExpired);
    }

    [Fact]
    public async Task Refused_keys_get_the_texts_tailscale_shows_with_http_200()
    {
        var (user, _) = await _host.CreateUserAsync(Ct);
        var single = await _host.CreateKeyAsync(user, Ct);
        var expired = await _host.CreateKeyAsync(user, Ct, validFor: TimeSpan.FromMinutes(-1));
        await _host.RegisterAsync(RegisterEndpointHost.NewMachineKey(), Body(RegisterEndpointHost.NewNodeKey(), single), Ct);

        Assert.Equal(Errors.PreAuthKeyUsed, (await _host.RegisterAsync(RegisterEndpointHost.NewMachineKey(), Body(RegisterEndpointHost.NewNodeKey(), single), Ct)).Error);
        Assert.Equal(Errors.PreAuthKeyExpired, (await _host.RegisterAsync(RegisterEndpointHost.NewMachineKey(), Body(RegisterEndpointHost.NewNodeKey(), expired), Ct)).Error);
        Assert.Equal(Errors.InvalidPreAuthKey, (await _host.RegisterAsync(RegisterEndpointHost.NewMachineKey(), Body(RegisterEndpointHost.NewNodeKey(), "tskey-auth-nope"), Ct)).Error);
        Assert.Equal(Errors.InvalidPreAuthKey, (await _host.RegisterAsync(RegisterEndpointHost.NewMachineKey(), Body(RegisterEndpointHost.NewNodeKey(), new string('a', 48)), Ct)).Error);
    }

    [Fact]
    public async Task Approving_for_a_deleted_user_fails_and_the_key_of_a_deleted_user_is_invalid()
    {
        var (user, name) = await _host.CreateUserAsync(Ct);
        var key = await _host.CreateKeyAsync(user, Ct, reusable: true);
        var first = await _host.RegisterAsync(RegisterEndpointHost.NewMachineKey(), Body(RegisterEndpointHost.NewNodeKey()), Ct);
        Assert.Equal(ResultCode.Ok, (await _host.Users.DeleteAsync(user, DateTimeOffset.UtcNow, Cause.Cli("users destroy"), Ct)).Result.Code);

        var approval = await _host.Nodes.RegisterPendingAsync(first.AuthUrl[(first.AuthUrl.LastIndexOf('/') + 1)..], name, DateTimeOffset.UtcNow, Cause.Cli("nodes register"), Ct);
        var withKey = await _host.RegisterAsync(RegisterEndpointHost.NewMachineKey(), Body(RegisterEndpointHost.NewNodeKey(), key), Ct);

        Assert.Equal(Errors.UserNotFound, approval.Result.Message);
        Assert.Equal(Errors.InvalidPreAuthKey, withKey.Error);
        Assert.Empty(await _host.Nodes.ListAsync(user, Ct));
    }

    [Theory]
    [InlineData("""{"Version":130}""", "NodeKey is missing")]
    [InlineData("""{"NodeKey":"nodekey:1234"}""", "NodeKey is not")]
    [InlineData("""{"NodeKey":"mkey:0000000000000000000000000000000000000000000000000000000000000001"}""", "NodeKey is not")]
    [InlineData("""{"NodeKey":"nodekey:000000000000000000000000000000000000000000000000000000000000000g"}""", "NodeKey is not")]
    [InlineData("""{"NodeKey":"nodekey:0000000000000000000000000000000000000000000000000000000000000001","OldNodeKey":"nodekey:xyz"}""", "OldNodeKey is not")]
    [InlineData("""{"NodeKey":"nodekey:0000000000000000000000000000000000000000000000000000000000000001","Expiry":"yesterday"}""", "Expiry is not")]
    public async Task Bad_field_values_are_named_in_the_error(string body, string expected)
    {
        var response = await _host.RegisterAsync(RegisterEndpointHost.NewMachineKey(), JsonNode.Parse(body)!, Ct);
        Assert.StartsWith(expected, response.Error);
        Assert.False(response.MachineAuthorized);
    }

    [Theory]
    [InlineData("not json")]
    [InlineData("""{"NodeKey": """)]
    [InlineData("""{"Version":"one hundred"}""")]
    [InlineData("null")]
    [InlineData("[]")]
    public async Task Bodies_that_are_not_a_register_request_are_400(string body)
    {
        using var response = await _host.PostRegisterAsync(RegisterEndpointHost.NewMachineKey(), new StringContent(body, Encoding.UTF8, "application/json"), Ct);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("not a valid RegisterRequest", await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task Bodies_over_one_mebibyte_are_413_with_or_without_a_length()
    {
        var big = "{\"Followup\":\"" + new string('x', MachineRegisterEndpoint.MaxBodyBytes) + "\"}";
        using var declared = await _host.PostRegisterAsync(RegisterEndpointHost.NewMachineKey(), new StringContent(big), Ct);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, declared.StatusCode);

        var chunked = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(big)));
        chunked.Headers.ContentLength = null;
        var request = new HttpRequestMessage(HttpMethod.Post, MachineRegisterEndpoint.Path) { Content = chunked };
        request.Headers.Add(RegisterEndpointHost.MachineKeyHeader, RegisterEndpointHost.NewMachineKey());
        request.Headers.TransferEncodingChunked = true;
        using var streamed = await _host.Client.SendAsync(request, Ct);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, streamed.StatusCode);
    }

    [Fact]
    public async Task Requests_without_a_noise_identity_are_401()
    {
        using var response = await _host.PostRegisterAsync(null, JsonContent.Create(Body(RegisterEndpointHost.NewNodeKey())), Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Field_names_are_matched_case_insensitively_as_go_does()
    {
        var body = JsonNode.Parse("{\"nodekey\":\"" + RegisterEndpointHost.NewNodeKey() + "\",\"hostinfo\":{\"hostname\":\"lower\"}}")!;
        var response = await _host.RegisterAsync(RegisterEndpointHost.NewMachineKey(), body, Ct);
        Assert.NotEqual("", response.AuthUrl);
    }

    [Fact]
    public async Task The_register_page_refuses_unknown_and_malformed_ids()
    {
        using var unknown = await _host.Client.GetAsync("/register/AAAAAAAAAAAAAAAAAAAAAAAA", Ct);
        using var malformed = await _host.Client.GetAsync("/register/%3Cscript%3E", Ct);
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
    }

    [Theory]
    [InlineData("0001-01-01T00:00:00Z", null)]
    [InlineData("", null)]
    [InlineData("2026-01-02T03:04:05.123456789Z", "2026-01-02T03:04:05.1234567+00:00")]
    [InlineData("1970-01-01T01:02:03+01:00", "1970-01-01T00:02:03+00:00")]
    public void Expiry_parses_go_times(string text, string? expected)
    {
        Assert.True(RegisterRequestReader.TryParseExpiry(text, out var expiry));
        Assert.Equal(expected is null ? null : DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), expiry);
    }

    private static Dictionary<string, object?> Body(string nodeKey, string? authKey = null, string expiry = ZeroTime, string followup = "") => new()
    {
        ["Version"] = 130,
        ["NodeKey"] = nodeKey,
        ["OldNodeKey"] = ZeroNodeKey,
        ["NLKey"] = "nlpub:" + new string('1', 64),
        ["Auth"] = authKey is null ? null : new Dictionary<string, string> { ["AuthKey"] = authKey },
        ["Expiry"] = expiry,
        ["Followup"] = followup,
        ["Hostinfo"] = new Dictionary<string, object> { ["Hostname"] = "test-host", ["OS"] = "linux" },
    };
}
