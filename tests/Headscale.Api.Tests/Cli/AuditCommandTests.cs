using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Headscale.Management.V1;
using Xunit;

namespace Headscale.Api.Tests.Cli;

[Collection(CliCollection.Name)]
public sealed class AuditCommandTests(CliHarness cli)
{
    [Fact]
    public async Task Audit_list_sends_every_filter_and_prints_a_table()
    {
        var run = await cli.RunAsync("audit", "list", "--kind", "user.", "--actor", "Cli", "--subject", "user:1",
            "--from", "2026-01-09T00:00:00Z", "--to", "2026-01-10T00:00:00+01:00", "--page-size", "20", "--page-token", "7");
        var request = Assert.IsType<ListAuditEventsRequest>(cli.Facades.LastRequest);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(("user.", "Cli", "user:1", 20u, "7"), (request.Kind, request.Actor, request.Subject, request.PageSize, request.PageToken));
        Assert.Equal(Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 1, 9, 0, 0, 0, TimeSpan.Zero)), request.From);
        Assert.Equal(Timestamp.FromDateTimeOffset(new DateTimeOffset(2026, 1, 9, 23, 0, 0, TimeSpan.Zero)), request.To);
        Assert.StartsWith("ID | Time", run.Lines[0]);
        Assert.Contains("user.created", run.Lines[1]);
        Assert.Contains("CreateUser", run.Lines[1]);
        Assert.Contains("user alice created", run.Lines[1]);
    }

    [Fact]
    public async Task Since_counts_back_from_now_and_json_matches_the_rest_shape()
    {
        var run = await cli.RunAsync("audit", "list", "--since", "24h", "-o", "json");
        var request = Assert.IsType<ListAuditEventsRequest>(cli.Facades.LastRequest);

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(Timestamp.FromDateTimeOffset(CliHarness.Now.AddHours(-24)), request.From);
        Assert.Null(request.To);
        Assert.Equal(100u, request.PageSize);
        using var json = JsonDocument.Parse(run.Stdout);
        var entry = json.RootElement.GetProperty("events")[0];
        Assert.Equal("7", entry.GetProperty("id").GetString());
        Assert.Equal("user:1", entry.GetProperty("subject").GetString());
        Assert.Equal("", json.RootElement.GetProperty("nextPageToken").GetString());
    }

    [Theory]
    [InlineData(new[] { "audit", "list", "--page-size", "0" }, "--page-size: '0' is not a number from 1 to 1000")]
    [InlineData(new[] { "audit", "list", "--page-size", "1001" }, "--page-size: '1001' is not a number from 1 to 1000")]
    [InlineData(new[] { "audit", "list", "--from", "yesterday" }, "--from: 'yesterday' is not an RFC 3339 time")]
    [InlineData(new[] { "audit", "list", "--to", "2026-01-10" }, "--to: '2026-01-10' is not an RFC 3339 time")]
    [InlineData(new[] { "audit", "list", "--since", "-5m" }, "--since: '-5m' is not a positive duration")]
    [InlineData(new[] { "audit", "list", "--since", "1h", "--from", "2026-01-09T00:00:00Z" }, "--since and --from cannot be used together")]
    [InlineData(new[] { "audit", "list", "--kind", " " }, "--kind: must not be empty")]
    public async Task Bad_arguments_are_refused_before_calling_the_server(string[] args, string message)
    {
        var before = cli.Facades.LastRequest;

        var run = await cli.RunAsync(args);

        Assert.Equal(1, run.ExitCode);
        Assert.StartsWith("Error: ", run.Stderr);
        Assert.Contains(message, run.Stderr);
        Assert.Same(before, cli.Facades.LastRequest);
    }
}
