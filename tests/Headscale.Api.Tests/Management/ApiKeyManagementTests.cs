using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Headscale.Api.Management.ApiKeys;
using Headscale.Management.V1;
using Xunit;

namespace Headscale.Api.Tests.Management;

/// <summary>The API-key methods, implemented in this layer over the key store, end to end.</summary>
public sealed class ApiKeyManagementTests(ManagementServerFixture fixture) : IClassFixture<ManagementServerFixture>
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private ManagementTestServer Server => fixture.Server;

    private async Task<(HttpStatusCode Status, string Body)> PostAsync(string bearer, string path, string json)
    {
        using var response = await Server.Rest(bearer).PostAsync(path, new StringContent(json, Encoding.UTF8, "application/json"), Ct);
        return (response.StatusCode, await response.Content.ReadAsStringAsync(Ct));
    }

    [Fact]
    public async Task Created_key_works_is_listed_for_headplane_login_and_dies_when_expired()
    {
        var (status, body) = await PostAsync(fixture.Key, "/api/v1/apikey", """{"expiration":"2026-04-01T00:00:00Z"}""");
        Assert.Equal(HttpStatusCode.OK, status);
        var created = (string)JsonNode.Parse(body)!["apiKey"]!;
        Assert.True(ApiKeyCodec.TryParse(created, out var parsed));
        Assert.Equal(ApiKeyForm.Legacy, parsed.Form);

        // Headplane's login: the key lists itself, and some prefix (without '*') starts the key.
        using var list = await Server.Rest(created).GetAsync("/api/v1/apikey", Ct);
        Assert.Equal(HttpStatusCode.OK, list.StatusCode);
        var listed = JsonNode.Parse(await list.Content.ReadAsStringAsync(Ct))!["apiKeys"]!.AsArray()
            .Single(k => created.StartsWith(((string)k!["prefix"]!).Replace("*", ""), StringComparison.Ordinal))!.AsObject();
        Assert.Equal(["id", "prefix", "expiration", "createdAt", "lastSeen"], listed.Select(p => p.Key));
        Assert.Equal(parsed.Prefix, (string)listed["prefix"]!);
        Assert.Equal("2026-04-01T00:00:00Z", (string)listed["expiration"]!);
        Assert.Equal("2026-01-10T12:00:00Z", (string)listed["createdAt"]!);
        Assert.Null(listed["lastSeen"]);
        Assert.IsType<string>((string)listed["id"]!);

        // The secret is stored only as bcrypt.
        var stored = await Server.Keys.FindByPrefixAsync(parsed.Prefix, Ct);
        Assert.True(ApiKeyHasher.Verify(parsed.Secret, stored!.Hash));
        Assert.DoesNotContain(parsed.Secret, stored.Hash, StringComparison.Ordinal);

        var (expireStatus, _) = await PostAsync(created, "/api/v1/apikey/expire", $$"""{"prefix":"{{parsed.Prefix}}"}""");
        Assert.Equal(HttpStatusCode.OK, expireStatus);
        using var afterExpiry = await Server.Rest(created).GetAsync("/api/v1/apikey", Ct);
        Assert.Equal(HttpStatusCode.Unauthorized, afterExpiry.StatusCode);
    }

    [Fact]
    public async Task Hskey_form_lists_with_masked_display_prefix_that_headplane_login_accepts()
    {
        var key = Server.AddKey(ApiKeyForm.Hskey);

        var keys = await Server.Grpc(key).ListApiKeysAsync(new ListApiKeysRequest(), cancellationToken: Ct);

        var mine = keys.ApiKeys.Where(k => key.StartsWith(k.Prefix.Replace("*", ""), StringComparison.Ordinal)).ToList();
        Assert.Single(mine);
        Assert.Matches("^hskey-api-[A-Za-z0-9]{12}-\\*\\*\\*$", mine[0].Prefix);
    }

    [Fact]
    public async Task Key_created_over_the_unix_socket_is_usable_on_rest_then_deleted_by_displayed_prefix()
    {
        var client = new HeadscaleService.HeadscaleServiceClient(Server.UnixSocketInvoker());
        var created = await client.CreateApiKeyAsync(
            new CreateApiKeyRequest { Expiration = Timestamp.FromDateTimeOffset(Server.Clock.Now.AddDays(90)) }, cancellationToken: Ct);
        using var before = await Server.Rest(created.ApiKey).GetAsync("/api/v1/user", Ct);
        ApiKeyCodec.TryParse(created.ApiKey, out var parsed);

        using var delete = await Server.Rest(fixture.Key).DeleteAsync($"/api/v1/apikey/{parsed.Prefix}", Ct);
        using var after = await Server.Rest(created.ApiKey).GetAsync("/api/v1/user", Ct);

        Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        Assert.Equal(HttpStatusCode.OK, delete.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, after.StatusCode);
    }

    [Theory]
    [InlineData("{}", "expiration is required")]
    [InlineData("""{"expiration":null}""", "expiration is required")]
    [InlineData("""{"expiration":"2026-01-10T12:00:00Z"}""", "expiration 2026-01-10T12:00:00Z is not in the future")]
    [InlineData("""{"expiration":"2020-01-01T00:00:00Z"}""", "expiration 2020-01-01T00:00:00Z is not in the future")]
    public async Task Create_without_a_future_expiration_is_400_naming_the_problem(string body, string message)
    {
        var (status, json) = await PostAsync(fixture.Key, "/api/v1/apikey", body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal(message, (string)JsonNode.Parse(json)!["message"]!);
    }

    [Theory]
    [InlineData("""{"prefix":""}""", HttpStatusCode.BadRequest, "prefix is required")]
    [InlineData("""{"prefix":"ab"}""", HttpStatusCode.BadRequest, "prefix must be 7 or 12 URL-safe characters, got 'ab'")]
    [InlineData("""{"prefix":"zzzzzzz"}""", HttpStatusCode.NotFound, "api key not found")]
    public async Task Expire_with_bad_or_unknown_prefix_names_the_problem(string body, HttpStatusCode expected, string message)
    {
        var (status, json) = await PostAsync(fixture.Key, "/api/v1/apikey/expire", body);

        Assert.Equal(expected, status);
        Assert.Equal(message, (string)JsonNode.Parse(json)!["message"]!);
    }

    [Fact]
    public async Task Delete_unknown_prefix_is_not_found_over_grpc()
    {
        var error = await Assert.ThrowsAsync<RpcException>(async () =>
            await Server.Grpc(fixture.Key).DeleteApiKeyAsync(new DeleteApiKeyRequest { Prefix = "hskey-api-zzzzzzzzzzzz-***" }, cancellationToken: Ct));

        Assert.Equal(StatusCode.NotFound, error.StatusCode);
    }

    [Fact]
    public async Task Key_whose_stored_hash_is_corrupt_is_refused_not_an_error()
    {
        var key = ApiKeyCodec.Generate(ApiKeyForm.Legacy);
        Server.Keys.Put(key.Prefix, "not-a-bcrypt-hash", Server.Clock.Now.AddDays(1), Server.Clock.Now);

        using var response = await Server.Rest(key.FullKey).GetAsync("/api/v1/apikey", Ct);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }
}
