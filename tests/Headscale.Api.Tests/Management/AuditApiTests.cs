using System.Collections.Concurrent;
using System.Collections.Immutable;
using System.Net;
using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Headscale.Actors.Auditing;
using Headscale.Api.Management;
using Headscale.Api.Management.Backends;
using Headscale.Api.Observability;
using Headscale.Management.V1;
using Microsoft.Extensions.DependencyInjection;
using Xunit;

namespace Headscale.Api.Tests.Management;

/// <summary>
/// ListAuditEvents over REST and gRPC with the real backend on a recorded audit log, its input
/// checks, and refused API keys reaching the audit recorder (prefix only, never the secret).
/// </summary>
public sealed class AuditApiTests : IAsyncLifetime
{
    private static readonly DateTimeOffset At = new(2026, 1, 10, 11, 0, 0, TimeSpan.Zero);

    private readonly RecordingAuditLog _log = new();
    private readonly RecordingAuditRecorder _recorder = new();
    private ManagementTestServer? _server;

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private ManagementTestServer Server => _server!;

    public async ValueTask InitializeAsync() =>
        _server = await ManagementTestServer.StartAsync(new FakeManagement(), Ct, services =>
        {
            services.AddSingleton<IAuditLog>(_log);
            services.AddSingleton<IAuditManagement, JournalAuditManagement>();
            services.AddSingleton<IAuditRecorder>(_recorder);
        });

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    [Fact]
    public async Task Rest_binds_every_filter_and_answers_in_grpc_gateway_json()
    {
        var key = Server.AddKey();

        using var response = await Server.Rest(key).GetAsync(
            "/api/v1/audit?from=2026-01-10T10:00:00Z&to=2026-01-10T12:00:00Z&kind=node.&actor=Cli&subject=node:3&pageSize=2&pageToken=41", Ct);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var query = Assert.Single(_log.Queries);
        Assert.Equal(new AuditQuery
        {
            From = new DateTimeOffset(2026, 1, 10, 10, 0, 0, TimeSpan.Zero),
            To = new DateTimeOffset(2026, 1, 10, 12, 0, 0, TimeSpan.Zero),
            Kind = "node.",
            Actor = "Cli",
            Subject = "node:3",
            AfterOffset = 41,
            Limit = 2,
        }, query);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        var first = json.RootElement.GetProperty("events")[0];
        Assert.Equal("42", first.GetProperty("id").GetString());
        Assert.Equal("2026-01-10T11:00:00Z", first.GetProperty("time").GetString());
        Assert.Equal("node.expired", first.GetProperty("kind").GetString());
        Assert.Equal("ExpireNode", first.GetProperty("via").GetString());
        Assert.Equal("43", json.RootElement.GetProperty("nextPageToken").GetString());
    }

    [Fact]
    public async Task Grpc_pages_with_defaults_and_the_unix_socket_needs_no_key()
    {
        var client = new HeadscaleService.HeadscaleServiceClient(Server.UnixSocketInvoker());

        var page = await client.ListAuditEventsAsync(new ListAuditEventsRequest(), cancellationToken: Ct);

        Assert.Equal(JournalAuditManagement.DefaultPageSize, Assert.Single(_log.Queries).Limit);
        Assert.Equal(["node.expired", "node.deleted"], page.Events.Select(e => e.Kind));
        Assert.Equal("43", page.NextPageToken);
        Assert.Equal(Timestamp.FromDateTimeOffset(At), page.Events[0].Time);
    }

    [Theory]
    [InlineData("pageSize=5000", "page_size: 5000 is more than 1000")]
    [InlineData("pageToken=abc", "page_token: 'abc' is not a token from a previous page")]
    [InlineData("pageToken=-1", "page_token: '-1' is not a token from a previous page")]
    [InlineData("from=2026-01-10T12:00:00Z&to=2026-01-10T10:00:00Z", "from: must not be after to")]
    public async Task Bad_filters_are_refused_with_a_message_naming_the_field(string query, string message)
    {
        var key = Server.AddKey();

        using var response = await Server.Rest(key).GetAsync("/api/v1/audit?" + query, Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync(Ct));
        Assert.Equal(message, json.RootElement.GetProperty("message").GetString());
        Assert.Empty(_log.Queries);
    }

    [Fact]
    public async Task Refused_calls_reach_the_recorder_with_reason_method_and_prefix_but_no_secret()
    {
        var forged = Headscale.Api.Management.ApiKeys.ApiKeyCodec.Generate(Headscale.Api.Management.ApiKeys.ApiKeyForm.Legacy);
        var before = ManagementMetrics.AuthenticationFailures.WithLabels("missing").Value;

        using var missing = await Server.Rest().GetAsync("/api/v1/user", Ct);
        var grpc = Server.Grpc(forged.FullKey);
        var refused = await Assert.ThrowsAsync<RpcException>(() => grpc.ListAuditEventsAsync(new ListAuditEventsRequest(), cancellationToken: Ct).ResponseAsync);

        Assert.Equal(StatusCode.Unauthenticated, refused.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
        Assert.Equal(
            [("", "missing", "ListUsers"), (forged.Prefix, "unknown-prefix", "ListAuditEvents")],
            _recorder.Calls.Select(c => (c.Prefix, c.Reason, c.Via)));
        Assert.All(_recorder.Calls, c => Assert.Equal("127.0.0.1", c.Remote));
        Assert.DoesNotContain(_recorder.Calls, c => (c.Prefix + c.Reason + c.Via).Contains(forged.Secret, StringComparison.Ordinal));
        Assert.True(ManagementMetrics.AuthenticationFailures.WithLabels("missing").Value > before);
    }

    [Fact]
    public async Task Calls_are_counted_by_method_and_status()
    {
        var before = ManagementMetrics.GrpcCalls.WithLabels("ListAuditEvents", "InvalidArgument").Value;
        var key = Server.AddKey();

        using var response = await Server.Rest(key).GetAsync("/api/v1/audit?pageToken=x", Ct);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(before + 1, ManagementMetrics.GrpcCalls.WithLabels("ListAuditEvents", "InvalidArgument").Value);
    }

    private sealed class RecordingAuditLog : IAuditLog
    {
        public ConcurrentQueue<AuditQuery> Queries { get; } = new();

        public Task<AuditPage> ReadAsync(AuditQuery query, CancellationToken cancellationToken)
        {
            Queries.Enqueue(query);
            return Task.FromResult(new AuditPage(
                [
                    new AuditEntry(42, At, "node.expired", "Api:abcdefg", "node:3", "node expires 2026-01-11T00:00:00.0000000+00:00", "ok", "ExpireNode"),
                    new AuditEntry(43, At, "node.deleted", "Cli", "node:3", "node.deleted", "ok", "DeleteNode"),
                ],
                43));
        }
    }

    private sealed class RecordingAuditRecorder : IAuditRecorder
    {
        public ConcurrentQueue<(string Prefix, string Reason, string Remote, string Via)> Calls { get; } = new();

        public void ApiAuthenticationFailed(string prefix, string reason, string remote, string via) =>
            Calls.Enqueue((prefix, reason, remote, via));

        public void RegistrationRefused(string machineKey, string method, string reason) =>
            throw new InvalidOperationException("the management API never registers nodes");
    }
}
