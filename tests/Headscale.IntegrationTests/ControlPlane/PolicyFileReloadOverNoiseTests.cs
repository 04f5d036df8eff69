using System.Text.Json.Nodes;

namespace Headscale.IntegrationTests.ControlPlane;

/// <summary>A server in policy file mode whose file starts out allowing everything.</summary>
public sealed class PolicyFileServer : ControlServer
{
    public const string AllowAll = """{"acls":[{"action":"accept","src":["*"],"dst":["*:*"]}]}""";

    public PolicyFileServer()
    {
        Directory.CreateDirectory(PolicyDirectory);
        File.WriteAllText(PolicyPath, AllowAll);
    }

    public string PolicyDirectory { get; } = Path.Combine(Path.GetTempPath(), "hs-policy-" + Guid.NewGuid().ToString("N")[..12]);

    public string PolicyPath => Path.Combine(PolicyDirectory, "policy.hujson");

    protected override string ExtraConfig => $"policy:\n  mode: file\n  path: {PolicyPath}\n";
}

/// <summary>
/// SIGHUP re-reads the policy file, as Headscale does: a changed policy reaches connected clients, a broken edit is
/// refused with the policy in force kept, and the signal does not stop the server.
/// </summary>
public sealed class PolicyFileReloadOverNoiseTests(PolicyFileServer server) : IClassFixture<PolicyFileServer>
{
    // The test run must not ignore SIGHUP (no nohup): the server inherits that and then never sees the signal.
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(45);

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Sighup_applies_an_edited_policy_file_and_keeps_the_old_one_when_the_edit_is_broken()
    {
        var alice = await server.CreateUserAsync("alice");
        var bob = await server.CreateUserAsync("bob");
        using var a = await server.RegisteredNodeAsync(alice);
        using var b = await server.RegisteredNodeAsync(bob);
        await using var streamA = await a.StreamMapAsync(Ct);
        Assert.Contains(b.NodeKey, NetworkMapOverNoiseTests.PeerKeys((await streamA.ReadAsync(Ct))!["Peers"]));
        var bId = (long)(await server.FindNodeAsync(b.NodeKey))!.Id;

        await File.WriteAllTextAsync(server.PolicyPath, "{\"acls\": [", Ct);
        server.Process.SendHangup();
        await WaitForLogAsync("does not load; the policy in force stays");

        await File.WriteAllTextAsync(server.PolicyPath, $$"""
            // alice's nodes reach only each other
            {"acls": [{"action": "accept", "src": ["{{alice.Name}}@"], "dst": ["{{alice.Name}}@:*"]},],}
            """, Ct);
        server.Process.SendHangup();

        await streamA.ReadUntilAsync(f => f["PeersRemoved"] is JsonArray ids && ids.Any(id => id!.GetValue<long>() == bId), Ct).WaitAsync(Wait, Ct);
        Assert.False(server.Process.HasExited);
        using var health = await server.Process.Http.GetAsync(new Uri(server.Url, "/health"), Ct);
        Assert.True(health.IsSuccessStatusCode);
    }

    private async Task WaitForLogAsync(string text)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(Ct);
        timeout.CancelAfter(Wait);
        try
        {
            while (!server.Process.Output.Contains(text, StringComparison.Ordinal))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), timeout.Token);
            }
        }
        catch (OperationCanceledException) when (!Ct.IsCancellationRequested)
        {
            var output = server.Process.Output;
            throw new TimeoutException($"the server did not log \"{text}\" within {Wait}; its output ends with:\n{output[Math.Max(0, output.Length - 6000)..]}");
        }
    }
}
