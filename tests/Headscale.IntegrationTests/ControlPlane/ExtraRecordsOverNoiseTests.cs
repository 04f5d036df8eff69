using System.Text.Json.Nodes;

namespace Headscale.IntegrationTests.ControlPlane;

/// <summary>A server whose extra DNS records come from a JSON file (<c>dns.extra_records_path</c>).</summary>
public sealed class ExtraRecordsServer : ControlServer
{
    public ExtraRecordsServer()
    {
        Directory.CreateDirectory(RecordsDirectory);
        File.WriteAllText(RecordsPath, """[{"name": "grafana.tailnet.example", "type": "A", "value": "100.64.10.1"}]""");
    }

    public string RecordsDirectory { get; } = Path.Combine(Path.GetTempPath(), "hs-records-" + Guid.NewGuid().ToString("N")[..12]);

    public string RecordsPath => Path.Combine(RecordsDirectory, "extra-records.json");

    protected override string ExtraConfig => $"dns:\n  magic_dns: true\n  base_domain: tailnet.example\n  extra_records_path: {RecordsPath}\n";

    /// <summary>Replaces the file the way config managers do: write a sibling, then rename over it.</summary>
    public void ReplaceRecords(string json)
    {
        var temporary = Path.Combine(RecordsDirectory, Guid.NewGuid().ToString("N") + ".tmp");
        File.WriteAllText(temporary, json);
        File.Move(temporary, RecordsPath, overwrite: true);
    }
}

/// <summary>
/// Extra records from a file reach clients in their first map, and an edit of the file reaches connected clients as a
/// DNSConfig delta while the server runs; a broken edit is refused and the records in force stay.
/// </summary>
public sealed class ExtraRecordsOverNoiseTests(ExtraRecordsServer server) : IClassFixture<ExtraRecordsServer>
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(45);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Edits_of_the_records_file_reach_connected_clients_and_a_broken_edit_changes_nothing()
    {
        var user = await server.CreateUserAsync();
        using var node = await server.RegisteredNodeAsync(user);
        await using var stream = await node.StreamMapAsync(Ct);
        var full = (await stream.ReadAsync(Ct))!;
        Assert.Equal(["grafana.tailnet.example A 100.64.10.1"], Records(full));

        server.ReplaceRecords("""
            [{"name": "grafana.tailnet.example", "type": "A", "value": "100.64.10.1"},
             {"name": "wiki.tailnet.example", "type": "AAAA", "value": "fd7a:115c:a1e0::10"}]
            """);
        var edited = await stream.ReadUntilAsync(f => f["DNSConfig"] is not null, Ct).WaitAsync(Wait, Ct);
        Assert.Equal(["grafana.tailnet.example A 100.64.10.1", "wiki.tailnet.example AAAA fd7a:115c:a1e0::10"], Records(edited));

        server.ReplaceRecords("""[{"name": "mail.tailnet.example", "type": "MX", "value": "10 mail"}]""");
        await WaitForLogAsync("record 0: \"type\" 'MX' is not supported (A or AAAA); keeping the 2 records in force");
        server.ReplaceRecords("""[{"name": "wiki.tailnet.example", "type": "A", "value": "100.64.10.2"}]""");
        var next = await stream.ReadUntilAsync(f => f["DNSConfig"] is not null, Ct).WaitAsync(Wait, Ct);
        Assert.Equal(["wiki.tailnet.example A 100.64.10.2"], Records(next));

        using var late = await server.RegisteredNodeAsync(user);
        await using var lateStream = await late.StreamMapAsync(Ct);
        Assert.Equal(["wiki.tailnet.example A 100.64.10.2"], Records((await lateStream.ReadAsync(Ct))!));
    }

    private async Task WaitForLogAsync(string text)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(Wait);
        while (!server.Process.Output.Contains(text, StringComparison.Ordinal))
        {
            await Task.Delay(TimeSpan.FromMilliseconds(100), timeout.Token);
        }
    }

    private static List<string> Records(JsonObject frame) =>
        [.. (frame["DNSConfig"]?["ExtraRecords"] as JsonArray ?? [])
            .Select(r => $"{r!["Name"]} {r["Type"]} {r["Value"]}")];
}
