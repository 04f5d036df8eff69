using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Grpc.Core;
using Headscale.Api.Management;
using Headscale.IntegrationTests.Support;
using Headscale.Management.V1;

namespace Headscale.IntegrationTests;

/// <summary>The management API of the real server, backed by the actors: API keys, policy, health.</summary>
public sealed class ManagementApiTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static ManagementClientConnection Local(TestServerConfig config) =>
        ManagementClientConnection.Open(new ManagementClientOptions(null, null, false, Path.Combine(config.Directory, "data", "headscale.sock"), TimeSpan.FromSeconds(60)));

    [Fact]
    public async Task Api_key_from_the_local_socket_opens_rest_and_survives_a_restart()
    {
        using var config = new TestServerConfig();
        string key;
        await using (var server = await ServerProcess.StartAsync(config, Ct))
        {
            using var local = Local(config);
            var created = await local.Client.CreateApiKeyAsync(new CreateApiKeyRequest { Expiration = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(1)) }, cancellationToken: Ct);
            key = created.ApiKey;

            using var anonymous = await server.Http.GetAsync("/api/v1/apikey", Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
            Assert.Equal("Unauthorized", await anonymous.Content.ReadAsStringAsync(Ct));
            Assert.Equal(0, await server.StopAsync(TimeSpan.FromSeconds(30)));
        }

        await using (var server = await ServerProcess.StartAsync(config, Ct))
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/apikey");
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            using var response = await server.Http.SendAsync(request, Ct);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
            var listed = Assert.Single(doc.RootElement.GetProperty("apiKeys").EnumerateArray());
            Assert.StartsWith(listed.GetProperty("prefix").GetString()!, key);
            Assert.DoesNotContain(key[8..], await response.Content.ReadAsStringAsync(Ct));

            using var local = Local(config);
            await local.Client.ExpireApiKeyAsync(new ExpireApiKeyRequest { Prefix = listed.GetProperty("prefix").GetString() }, cancellationToken: Ct);
            using var again = new HttpRequestMessage(HttpMethod.Get, "/api/v1/apikey");
            again.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key);
            using var refused = await server.Http.SendAsync(again, Ct);
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        }
    }

    [Fact]
    public async Task Policy_in_database_mode_validates_stores_and_reads_back()
    {
        using var config = new TestServerConfig { Extra = "policy:\n  mode: database\n" };
        await using var server = await ServerProcess.StartAsync(config, Ct);
        using var local = Local(config);

        var missing = await Assert.ThrowsAsync<RpcException>(() => local.Client.GetPolicyAsync(new GetPolicyRequest(), cancellationToken: Ct).ResponseAsync);
        Assert.Contains(ManagementErrors.PolicyNotFound, missing.Status.Detail);

        var broken = await Assert.ThrowsAsync<RpcException>(() => local.Client.SetPolicyAsync(new SetPolicyRequest { Policy = "{\"acls\": [}" }, cancellationToken: Ct).ResponseAsync);
        Assert.Contains("parsing policy", broken.Status.Detail);

        const string policy = "{\n  // all to all\n  \"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:*\"]}],\n}";
        var set = await local.Client.SetPolicyAsync(new SetPolicyRequest { Policy = policy }, cancellationToken: Ct);
        var get = await local.Client.GetPolicyAsync(new GetPolicyRequest(), cancellationToken: Ct);

        Assert.Equal(policy, get.Policy);
        Assert.Equal(set.UpdatedAt, get.UpdatedAt);
        Assert.True((await local.Client.HealthAsync(new HealthRequest(), cancellationToken: Ct)).DatabaseConnectivity);
    }

    [Fact]
    public async Task Policy_in_file_mode_is_read_only()
    {
        using var config = new TestServerConfig();
        File.WriteAllText(Path.Combine(config.Directory, "policy.hujson"), "{\"acls\": []}");
        config.Extra = "policy:\n  mode: file\n  path: policy.hujson\n";
        await using var server = await ServerProcess.StartAsync(config, Ct);
        using var local = Local(config);

        var get = await local.Client.GetPolicyAsync(new GetPolicyRequest(), cancellationToken: Ct);
        var set = await Assert.ThrowsAsync<RpcException>(() => local.Client.SetPolicyAsync(new SetPolicyRequest { Policy = "{}" }, cancellationToken: Ct).ResponseAsync);

        Assert.Equal("{\"acls\": []}", get.Policy);
        Assert.Contains(ManagementErrors.PolicyUpdateDisabled, set.Status.Detail);
    }

    [Fact]
    public async Task Users_and_pre_auth_keys_are_managed_through_grpc_and_rest()
    {
        using var config = new TestServerConfig();
        await using var server = await ServerProcess.StartAsync(config, Ct);
        using var local = Local(config);

        var alice = (await local.Client.CreateUserAsync(new CreateUserRequest { Name = "alice", DisplayName = "Alice", Email = "alice@example.com" }, cancellationToken: Ct)).User;
        var duplicate = await Assert.ThrowsAsync<RpcException>(() => local.Client.CreateUserAsync(new CreateUserRequest { Name = "alice" }, cancellationToken: Ct).ResponseAsync);
        var key = (await local.Client.CreatePreAuthKeyAsync(new CreatePreAuthKeyRequest
        {
            User = alice.Id,
            Reusable = true,
            Expiration = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddHours(1)),
            AclTags = { "tag:server" },
        }, cancellationToken: Ct)).PreAuthKey;
        var listed = await local.Client.ListPreAuthKeysAsync(new ListPreAuthKeysRequest { User = alice.Id }, cancellationToken: Ct);
        var withoutUser = await Assert.ThrowsAsync<RpcException>(() => local.Client.ListPreAuthKeysAsync(new ListPreAuthKeysRequest(), cancellationToken: Ct).ResponseAsync);
        var nodes = await local.Client.ListNodesAsync(new ListNodesRequest(), cancellationToken: Ct);

        Assert.Equal(StatusCode.AlreadyExists, duplicate.StatusCode);
        Assert.StartsWith("hskey-auth-", key.Key);
        var stored = Assert.Single(listed.PreAuthKeys);
        Assert.True(stored.Reusable);
        Assert.Equal(["tag:server"], stored.AclTags);
        Assert.Equal("alice", stored.User.Name);
        Assert.DoesNotContain(key.Key[^20..], stored.Key);
        Assert.Contains(ManagementErrors.RecordNotFound, withoutUser.Status.Detail);
        Assert.Empty(nodes.Nodes);

        var apiKey = (await local.Client.CreateApiKeyAsync(new CreateApiKeyRequest { Expiration = Google.Protobuf.WellKnownTypes.Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(1)) }, cancellationToken: Ct)).ApiKey;
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/user");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        using var response = await server.Http.SendAsync(request, Ct);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        var user = Assert.Single(doc.RootElement.GetProperty("users").EnumerateArray());
        Assert.Equal(alice.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), user.GetProperty("id").GetString());
        Assert.Equal("Alice", user.GetProperty("displayName").GetString());
    }
}
