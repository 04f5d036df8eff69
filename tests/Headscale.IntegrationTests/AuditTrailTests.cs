using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Grpc.Core;
using Headscale.Actors;
using Headscale.Actors.Auditing;
using Headscale.Actors.Hosting;
using Headscale.Actors.Nodes;
using Headscale.Actors.Persistence;
using Headscale.Actors.PreAuthKeys;
using Headscale.Actors.Users;
using Headscale.Api.ControlPlane;
using Headscale.Api.Management;
using Headscale.IntegrationTests.Support;
using Headscale.Management.V1;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;

namespace Headscale.IntegrationTests;

/// <summary>
/// Every admin action and authentication event ends up in the audit log, read back through REST,
/// gRPC and the CLI of the real server, after a restart, with no secret in it. Node registration
/// runs in-process on the same database first (the server's Noise transport is not needed to
/// exercise the registration service), then the real process takes over the database.
/// </summary>
public sealed class AuditTrailTests
{
    private static readonly string ZeroTime = "0001-01-01T00:00:00Z";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Admin_actions_and_auth_events_are_audited_through_rest_grpc_and_cli_after_a_restart()
    {
        using var config = new TestServerConfig();
        var database = Path.Combine(config.Directory, "audit.sqlite");
        config.Extra = $"grpc_allow_insecure: true\npolicy:\n  mode: database\ndatabase:\n  type: sqlite\n  sqlite:\n    path: {database}\n";

        var preAuthKey = await RegisterLogOutAndExpireInProcessAsync(database);
        var preAuthSecret = preAuthKey[(preAuthKey.LastIndexOf('-') + 1)..];

        string apiKey;
        await using (var server = await ServerProcess.StartAsync(config, Ct))
        {
            apiKey = await RunAdminActionsAsync(server, config);
            Assert.Equal(0, await server.StopAsync(TimeSpan.FromSeconds(30)));
        }

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

            // Auth events, from the in-process phase.
            Assert.Contains(fromRest, e => e.Kind == "user.created" && e.Actor == "Cli:users create");
            Assert.Contains(fromRest, e => e.Kind == "preauthkey.created");
            Assert.Contains(fromRest, e => e.Kind == "preauthkey.used" && e.Actor.StartsWith("PreAuthKey:", StringComparison.Ordinal));
            Assert.Contains(fromRest, e => e.Kind == "node.registered" && e.Actor.StartsWith("PreAuthKey:", StringComparison.Ordinal));
            Assert.Contains(fromRest, e => e.Kind == "node.logged-out" && e.Actor.StartsWith("Client:mkey:", StringComparison.Ordinal));
            Assert.Contains(fromRest, e => e.Kind == "node.expired" && e.Actor == "Cli:nodes expire");
            Assert.Contains(fromRest, e => (e.Kind, e.Outcome) == ("auth.registration.failed", "denied") && e.Subject.StartsWith("machine:mkey:", StringComparison.Ordinal));

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

    /// <summary>
    /// Registration with a pre-auth key (key use), the client's logout and an admin expiry, in a
    /// process of their own on <paramref name="database"/>. Returns the pre-auth key (a secret).
    /// </summary>
    private static async Task<string> RegisterLogOutAndExpireInProcessAsync(string database)
    {
        var registrations = new List<(string Method, string Result)>();
        using var listener = new MeterListener();
        listener.InstrumentPublished = (instrument, l) =>
        {
            if (instrument.Meter.Name == Headscale.Actors.Observability.HeadscaleMetrics.MeterName && instrument.Name == "headscale_registrations")
            {
                l.EnableMeasurementEvents(instrument);
            }
        };
        listener.SetMeasurementEventCallback<long>((_, _, tags, _) =>
        {
            var method = tags.ToArray().Single(t => t.Key == "method").Value as string;
            var result = tags.ToArray().Single(t => t.Key == "result").Value as string;
            lock (registrations)
            {
                registrations.Add((method!, result!));
            }
        });
        listener.Start();

        var port = TestPorts.GetFree();
        var builder = WebApplication.CreateEmptyBuilder(new WebApplicationOptions());
        builder.Services.AddRoutingCore();
        builder.Services.AddSingleton(TimeProvider.System);
        builder.Services.AddHeadscaleActors(new HeadscaleActorsOptions
        {
            Database = new DatabaseSettings { Kind = DatabaseKind.Sqlite, SqlitePath = database },
            Domain = new DomainSettings { ServerUrl = new Uri($"http://127.0.0.1:{port}"), BcryptWorkFactor = 4 },
        });
        builder.Services.AddHeadscaleAuditRecorder();
        builder.WebHost.UseKestrelCore().ConfigureKestrel(k => k.ListenLocalhost(port, l => l.Protocols = HttpProtocols.Http1));
        await using var app = builder.Build();
        var machine = MachineKey.FromBytes(RandomNumberGenerator.GetBytes(32));
        app.Use((context, next) =>
        {
            context.Features.Set<IControlPeerIdentity>(new ControlPeerIdentity(machine));
            return next(context);
        });
        app.UseRouting();
        app.MapMachineRegister();
        await app.Services.GetRequiredService<JournalDatabase>().PrepareAsync(Ct);
        await app.StartAsync(Ct);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

        var now = DateTimeOffset.UtcNow;
        var alice = await app.Services.GetRequiredService<IUserService>().CreateAsync("alice", "", "", now, Cause.Cli("users create"), Ct);
        var key = await app.Services.GetRequiredService<IPreAuthKeyService>().CreateAsync(
            new PreAuthKeySpec(alice.User!.Id, false, false, now.AddHours(1), []), now, Cause.Cli("preauthkeys create"), Ct);
        var nodeKey = NodeKey.FromBytes(RandomNumberGenerator.GetBytes(32)).Value;

        using (var refused = await http.PostAsJsonAsync(MachineRegisterEndpoint.Path, Body(nodeKey, key.FullKey[..^4] + "0000", ZeroTime), Ct))
        {
            Assert.NotEqual("", (await refused.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("Error").GetString());
        }

        using (var registered = await http.PostAsJsonAsync(MachineRegisterEndpoint.Path, Body(nodeKey, key.FullKey, ZeroTime), Ct))
        {
            Assert.True((await registered.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("MachineAuthorized").GetBoolean());
        }

        using (var loggedOut = await http.PostAsJsonAsync(MachineRegisterEndpoint.Path, Body(nodeKey, null, "1970-01-01T00:00:01Z"), Ct))
        {
            Assert.True((await loggedOut.Content.ReadFromJsonAsync<JsonElement>(Ct)).GetProperty("NodeKeyExpired").GetBoolean());
        }

        var nodes = app.Services.GetRequiredService<INodeService>();
        var node = Assert.Single(await nodes.ListAsync(null, Ct));
        await nodes.ExpireAsync(node.Id, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow, Cause.Cli("nodes expire"), Ct);

        // The refusal is written by the recorder actor after the answer: wait for it before stopping.
        var audit = app.Services.GetRequiredService<Headscale.Actors.Auditing.IAuditLog>();
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct))
        {
            timeout.CancelAfter(TimeSpan.FromSeconds(30));
            while ((await audit.ReadAsync(new Headscale.Actors.Auditing.AuditQuery { Kind = "auth.registration.failed" }, timeout.Token)).Entries.IsEmpty)
            {
                await Task.Delay(100, timeout.Token);
            }
        }

        await app.StopAsync(Ct);

        lock (registrations)
        {
            Assert.Contains(("preauthkey", "ok"), registrations);
            Assert.Contains(("logout", "logged_out"), registrations);
            Assert.Contains(("preauthkey", "error"), registrations);
        }

        return key.FullKey;
    }

    private static Dictionary<string, object?> Body(string nodeKey, string? authKey, string expiry) => new()
    {
        ["Version"] = 130,
        ["NodeKey"] = nodeKey,
        ["OldNodeKey"] = "nodekey:" + new string('0', 64),
        ["NLKey"] = "nlpub:" + new string('1', 64),
        ["Auth"] = authKey is null ? null : new Dictionary<string, string> { ["AuthKey"] = authKey },
        ["Expiry"] = expiry,
        ["Followup"] = "",
        ["Hostinfo"] = new Dictionary<string, object> { ["Hostname"] = "audit-host", ["OS"] = "linux" },
    };
}
