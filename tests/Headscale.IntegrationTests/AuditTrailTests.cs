using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Grpc.Core;
using Headscale.Api.Management;
using Headscale.IntegrationTests.Support;
using Headscale.Management.V1;
using Headscale.Protocol.Client;

namespace Headscale.IntegrationTests;

/// <summary>
/// Every admin action and authentication event ends up in the audit log, read back through REST,
/// gRPC and the CLI of the real server, after a restart, with no secret in it. The auth events come
/// from clients talking to the server over ts2021 (Noise), as a real tailscaled does.
/// </summary>
public sealed class AuditTrailTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Admin_actions_and_auth_events_are_audited_through_rest_grpc_and_cli_after_a_restart()
    {
        using var config = new TestServerConfig();
        var database = Path.Combine(config.Directory, "audit.sqlite");
        config.Extra = $"grpc_allow_insecure: true\ncli:\n  timeout: 60s\npolicy:\n  mode: database\ndatabase:\n  type: sqlite\n  sqlite:\n    path: {database}\n";

        string preAuthKey;
        string reusableKey;
        string machine;
        string apiKey;
        await using (var server = await ServerProcess.StartAsync(config, Ct))
        {
            (preAuthKey, reusableKey, machine) = await RunAuthEventsOverNoiseAsync(server, config);
            apiKey = await RunAdminActionsAsync(server, config);
            Assert.Equal(0, await server.StopAsync(TimeSpan.FromSeconds(30)));
        }

        var preAuthSecret = preAuthKey[(preAuthKey.LastIndexOf('-') + 1)..];
        var apiSecret = apiKey[(apiKey.LastIndexOf('.') + 1)..];
        var apiPrefix = apiKey[..apiKey.LastIndexOf('.')];
        await using (var server = await ServerProcess.StartAsync(config, Ct))
        {
            using var rest = new HttpRequestMessage(HttpMethod.Get, "/api/v1/audit?pageSize=1000");
            rest.Headers.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
            using var restResponse = await server.Http.SendAsync(rest, Ct);
            var restText = await restResponse.Content.ReadAsStringAsync(Ct);
            Assert.Equal(HttpStatusCode.OK, restResponse.StatusCode);

            using var tcp = ManagementClientConnection.Open(new ManagementClientOptions($"http://127.0.0.1:{config.GrpcPort}", apiKey, true, config.SocketPath, TimeSpan.FromSeconds(60)));
            var grpc = await tcp.Client.ListAuditEventsAsync(new ListAuditEventsRequest { PageSize = 1000 }, cancellationToken: Ct);

            var cli = await CliProcess.RunAsync(config.Directory, Ct, "audit", "list", "-c", config.ConfigPath, "-o", "json", "--page-size", "1000");
            Assert.True(cli.ExitCode == 0, cli.Stderr);

            var fromRest = Entries(JsonDocument.Parse(restText).RootElement);
            var fromCli = Entries(JsonDocument.Parse(cli.Stdout).RootElement);
            var fromGrpc = grpc.Events.Select(e => (e.Kind, e.Actor, e.Subject, e.Outcome, e.Via)).ToList();
            Assert.Equal(fromRest, fromGrpc);
            Assert.Equal(fromRest, fromCli);

            // Auth events from the clients over ts2021, and the CLI's part in them.
            Assert.Contains(fromRest, e => (e.Kind, e.Actor, e.Via) == ("user.created", "Cli", "CreateUser"));
            Assert.Equal(2, fromRest.Count(e => (e.Kind, e.Actor, e.Via) == ("preauthkey.created", "Cli", "CreatePreAuthKey")));
            // A single-use key is marked used; a reusable one is not, the node's event names it.
            Assert.Single(fromRest, e => e.Kind == "preauthkey.used" && e.Actor.StartsWith("PreAuthKey:", StringComparison.Ordinal));
            Assert.Equal(2, fromRest.Count(e => e.Kind == "node.registered" && e.Actor.StartsWith("PreAuthKey:", StringComparison.Ordinal)));
            Assert.Contains(fromRest, e => (e.Kind, e.Actor) == ("node.key-rotated", "Client:" + machine));
            Assert.Contains(fromRest, e => (e.Kind, e.Actor) == ("node.logged-out", "Client:" + machine));
            Assert.Contains(fromRest, e => (e.Kind, e.Actor, e.Via) == ("node.expired", "Cli", "ExpireNode"));
            Assert.Contains(fromRest, e => (e.Kind, e.Subject, e.Outcome) == ("auth.registration.failed", "machine:" + machine, "denied"));

            // Admin actions of the first server run: who, through which method.
            Assert.Contains(fromRest, e => (e.Kind, e.Actor, e.Via) == ("apikey.created", "Cli", "CreateApiKey"));
            Assert.Contains(fromRest, e => (e.Kind, e.Actor, e.Via) == ("user.created", "Api:" + apiPrefix, "CreateUser"));
            Assert.Contains(fromRest, e => (e.Kind, e.Actor, e.Via) == ("user.renamed", "Api:" + apiPrefix, "RenameUser"));
            Assert.Contains(fromRest, e => (e.Kind, e.Actor, e.Via) == ("user.deleted", "Api:" + apiPrefix, "DeleteUser"));
            Assert.Contains(fromRest, e => (e.Kind, e.Actor, e.Via) == ("preauthkey.created", "Api:" + apiPrefix, "CreatePreAuthKey"));
            Assert.Contains(fromRest, e => (e.Kind, e.Actor, e.Via) == ("preauthkey.expired", "Api:" + apiPrefix, "ExpirePreAuthKey"));
            Assert.Contains(fromRest, e => (e.Kind, e.Actor, e.Via) == ("policy.changed", "Api:" + apiPrefix, "SetPolicy"));
            Assert.Contains(fromRest, e => (e.Kind, e.Actor, e.Via) == ("node.renamed", "Api:" + apiPrefix, "RenameNode"));
            Assert.Contains(fromRest, e => (e.Kind, e.Actor, e.Via) == ("user.created", "Api:" + apiPrefix, "CreateUser") && e.Subject.StartsWith("user:", StringComparison.Ordinal));
            Assert.Contains(fromRest, e => (e.Kind, e.Actor, e.Via) == ("apikey.created", "Api:" + apiPrefix, "CreateApiKey"));
            Assert.Contains(fromRest, e => (e.Kind, e.Actor, e.Via) == ("apikey.expired", "Api:" + apiPrefix, "ExpireApiKey"));
            Assert.Contains(fromRest, e => (e.Kind, e.Actor, e.Via) == ("apikey.deleted", "Api:" + apiPrefix, "DeleteApiKey"));

            // Refused calls: a wrong secret for a real prefix over REST, a malformed key over gRPC.
            Assert.Contains(fromRest, e => (e.Kind, e.Subject, e.Outcome, e.Via) == ("auth.api.failed", "apikey:" + apiPrefix, "denied", "ListUsers"));
            Assert.Contains(fromRest, e => (e.Kind, e.Subject, e.Outcome, e.Via) == ("auth.api.failed", "api", "denied", "ListNodes"));

            // Filters and paging through the API.
            var nodesOnly = await tcp.Client.ListAuditEventsAsync(new ListAuditEventsRequest { Kind = "node.", PageSize = 2 }, cancellationToken: Ct);
            Assert.Equal(2, nodesOnly.Events.Count);
            Assert.All(nodesOnly.Events, e => Assert.StartsWith("node.", e.Kind));
            var rest2 = await tcp.Client.ListAuditEventsAsync(new ListAuditEventsRequest { Kind = "node.", PageSize = 1000, PageToken = nodesOnly.NextPageToken }, cancellationToken: Ct);
            Assert.All(rest2.Events, e => Assert.True(e.Id > nodesOnly.Events[^1].Id));

            foreach (var text in new[] { restText, grpc.ToString(), cli.Stdout })
            {
                Assert.DoesNotContain(apiSecret, text);
                Assert.DoesNotContain(preAuthSecret, text);
                Assert.DoesNotContain(WrongSecret(preAuthKey), text);
                Assert.DoesNotContain(reusableKey[(reusableKey.LastIndexOf('-') + 1)..], text);
                Assert.DoesNotContain("$2a$", text);
            }
        }
    }

    /// <summary>The server's first logged exception with some context, to explain a 500.</summary>
    private static string FirstException(string output)
    {
        var at = output.IndexOf("Exception", StringComparison.Ordinal);
        return at < 0 ? "" : output.Substring(Math.Max(0, at - 300), Math.Min(3000, output.Length - Math.Max(0, at - 300)));
    }

    private static List<(string Kind, string Actor, string Subject, string Outcome, string Via)> Entries(JsonElement response) =>
        response.GetProperty("events").EnumerateArray()
            .Select(e => (e.GetProperty("kind").GetString()!, e.GetProperty("actor").GetString()!, e.GetProperty("subject").GetString()!,
                e.GetProperty("outcome").GetString()!, e.GetProperty("via").GetString()!))
            .ToList();

    /// <summary>The admin actions of the first run; returns the API key the CLI created.</summary>
    private static async Task<string> RunAdminActionsAsync(ServerProcess server, TestServerConfig config)
    {
        var created = await CliProcess.RunAsync(config.Directory, Ct, "apikeys", "create", "-c", config.ConfigPath, "-e", "24h");
        Assert.True(created.ExitCode == 0, created.Stderr);
        var apiKey = created.Stdout.Trim();

        async Task<JsonElement> Rest(HttpMethod method, string path, object? body = null, string? key = null, HttpStatusCode expected = HttpStatusCode.OK)
        {
            using var request = new HttpRequestMessage(method, path);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", key ?? apiKey);
            if (body is not null)
            {
                request.Content = JsonContent.Create(body);
            }

            using var response = await server.Http.SendAsync(request, Ct);
            var text = await response.Content.ReadAsStringAsync(Ct);
            Assert.True(expected == response.StatusCode, $"{method} {path}: {(int)response.StatusCode} {text}\n{FirstException(server.Output)}");
            return text.StartsWith('{') ? JsonDocument.Parse(text).RootElement.Clone() : default;
        }

        var bob = await Rest(HttpMethod.Post, "/api/v1/user", new { name = "bob" });
        var bobId = bob.GetProperty("user").GetProperty("id").GetString();
        await Rest(HttpMethod.Post, $"/api/v1/user/{bobId}/rename/robert");
        var carol = await Rest(HttpMethod.Post, "/api/v1/user", new { name = "carol" });
        var carolId = carol.GetProperty("user").GetProperty("id").GetString();
        var key = await Rest(HttpMethod.Post, "/api/v1/preauthkey", new { user = carolId, reusable = true, expiration = DateTimeOffset.UtcNow.AddHours(1) });
        await Rest(HttpMethod.Post, "/api/v1/preauthkey/expire", new { user = carolId, key = key.GetProperty("preAuthKey").GetProperty("key").GetString() });
        await Rest(HttpMethod.Delete, $"/api/v1/user/{bobId}");
        await Rest(HttpMethod.Put, "/api/v1/policy", new { policy = """{"acls":[{"action":"accept","src":["*"],"dst":["*:*"]}]}""" });
        var nodes = await Rest(HttpMethod.Get, "/api/v1/node");
        var nodeId = nodes.GetProperty("nodes")[0].GetProperty("id").GetString();
        await Rest(HttpMethod.Post, $"/api/v1/node/{nodeId}/rename/renamed-node");

        var second = await Rest(HttpMethod.Post, "/api/v1/apikey", new { expiration = DateTimeOffset.UtcNow.AddDays(1) });
        var secondPrefix = second.GetProperty("apiKey").GetString()!.Split('.')[0];
        await Rest(HttpMethod.Post, "/api/v1/apikey/expire", new { prefix = secondPrefix });
        await Rest(HttpMethod.Delete, $"/api/v1/apikey/{secondPrefix}");

        // Refused: the right prefix with a wrong secret (REST), and a malformed key (gRPC over TCP).
        var wrongSecret = apiKey[..(apiKey.LastIndexOf('.') + 1)] + new string('x', apiKey.Length - apiKey.LastIndexOf('.') - 1);
        await Rest(HttpMethod.Get, "/api/v1/user", key: wrongSecret, expected: HttpStatusCode.Unauthorized);
        using var malformed = ManagementClientConnection.Open(new ManagementClientOptions($"http://127.0.0.1:{config.GrpcPort}", "not-an-api-key", true, config.SocketPath, TimeSpan.FromSeconds(60)));
        var refused = await Assert.ThrowsAsync<RpcException>(() => malformed.Client.ListNodesAsync(new ListNodesRequest(), cancellationToken: Ct).ResponseAsync);
        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);

        // The refusals are written by the recorder actor, after the answer: wait until both are there.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        while ((await Rest(HttpMethod.Get, "/api/v1/audit?kind=auth.api.failed")).GetProperty("events").GetArrayLength() < 2)
        {
            await Task.Delay(100, timeout.Token);
        }

        return apiKey;
    }

    /// <summary><paramref name="preAuthKey"/> with a different secret: refused, and never to be written down either.</summary>
    private static string WrongSecret(string preAuthKey) =>
        preAuthKey[..^4] + (preAuthKey.EndsWith("0000", StringComparison.Ordinal) ? "1111" : "0000");

    /// <summary>
    /// The auth events over ts2021, with the CLI doing the admin's part: a registration refused for a
    /// wrong key secret, a registration with a single-use pre-auth key (key use), a node key rotation
    /// and a logout by that client; a second node registered with a reusable key and then expired
    /// with <c>nodes expire</c>. Returns both keys (secrets) and the first client's machine key.
    /// </summary>
    private static async Task<(string PreAuthKey, string ReusableKey, string MachineKey)> RunAuthEventsOverNoiseAsync(ServerProcess server, TestServerConfig config)
    {
        async Task<string> Cli(params string[] args)
        {
            var result = await CliProcess.RunAsync(config.Directory, Ct, [.. args, "-c", config.ConfigPath]);
            Assert.True(result.ExitCode == 0, $"headscale {string.Join(' ', args)}: {result.Stderr}{result.Stdout}");
            return result.Stdout.Trim();
        }

        await Cli("users", "create", "alice");
        using var local = ManagementClientConnection.Open(new ManagementClientOptions(null, null, false, config.SocketPath, TimeSpan.FromSeconds(60)));
        var alice = Assert.Single((await local.Client.ListUsersAsync(new ListUsersRequest { Name = "alice" }, cancellationToken: Ct)).Users);
        var aliceId = alice.Id.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var preAuthKey = await Cli("preauthkeys", "create", "-u", aliceId, "-e", "1h");
        var reusableKey = await Cli("preauthkeys", "create", "-u", aliceId, "--reusable", "-e", "1h");

        var url = new Uri($"http://127.0.0.1:{config.Port}");
        var noiseKey = await Ts2021Client.FetchServerKeyAsync(server.Http, url, ControlNode.DefaultCapabilityVersion, Ct);
        using var laptop = new ControlNode(url, noiseKey, "audit-laptop");
        var refused = await laptop.RegisterAsync(WrongSecret(preAuthKey), Ct);
        Assert.True(!refused.Succeeded && refused.Error.Length > 0, refused.RawBody);
        var registered = await laptop.RegisterAsync(preAuthKey, Ct);
        Assert.True(registered.Succeeded, registered.RawBody);
        var rotated = await laptop.RotateNodeKeyAsync(null, Ct);
        Assert.True(rotated.Succeeded, rotated.RawBody);
        var loggedOut = await laptop.LogoutAsync(Ct);
        Assert.True(loggedOut.NodeKeyExpired, loggedOut.RawBody);

        using var desktop = new ControlNode(url, noiseKey, "audit-desktop");
        var second = await desktop.RegisterAsync(reusableKey, Ct);
        Assert.True(second.Succeeded, second.RawBody);
        var nodes = (await local.Client.ListNodesAsync(new ListNodesRequest(), cancellationToken: Ct)).Nodes;
        var desktopNode = Assert.Single(nodes, n => n.Name == "audit-desktop" || n.GivenName == "audit-desktop");
        await Cli("nodes", "expire", "-i", desktopNode.Id.ToString(System.Globalization.CultureInfo.InvariantCulture));
        // The client learns that its key expired the next time it asks.
        var refreshed = await desktop.RefreshAsync(Ct);
        Assert.True(refreshed.NodeKeyExpired, refreshed.RawBody);

        // The refusal is written by the recorder actor after the answer: wait for it.
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        while ((await local.Client.ListAuditEventsAsync(new ListAuditEventsRequest { Kind = "auth.registration.failed" }, cancellationToken: timeout.Token)).Events.Count == 0)
        {
            await Task.Delay(100, timeout.Token);
        }

        return (preAuthKey, reusableKey, laptop.MachineKey.PublicKey.ToString());
    }
}
