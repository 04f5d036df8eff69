using System.Text.Json;

namespace Headscale.IntegrationTests.CliManagement;

/// <summary><c>headscale policy get/set</c> (database mode), <c>health</c> and <c>version</c> through the real executable.</summary>
public sealed class CliPolicyHealthTests(CliServer server) : IClassFixture<CliServer>
{
    private const string Policy = "{\n  // everyone to everything\n  \"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:*\"]}],\n}\n";

    [Fact]
    public async Task Policy_is_refused_when_broken_stored_from_a_file_and_read_back_in_human_and_json_output()
    {
        var good = Write("good.hujson", Policy);
        var broken = Write("broken.hujson", "{\"acls\": [}");
        var unknownKey = Write("unknown.hujson", "{\"acls\": [], \"groupz\": {}}");

        (await server.RunAsync("policy", "get")).Error("policy not found");
        (await server.RunAsync("policy", "set", "-f", broken)).Error("parsing policy");
        (await server.RunAsync("policy", "put", "-f", unknownKey)).Error("groupz");
        (await server.RunAsync("policy", "set", "-f", broken, "-o", "json")).JsonError("parsing policy");

        Assert.Equal("Policy updated.\n", (await server.RunAsync("policy", "set", "-f", good)).Ok());
        Assert.Equal(Policy + "\n", (await server.RunAsync("policy", "get")).Ok());
        var json = await server.JsonAsync("policy", "show");
        Assert.Equal(Policy, json.GetProperty("policy").GetString());
        Assert.True(DateTimeOffset.TryParse(json.GetProperty("updatedAt").GetString(), out _));

        var set = (await server.RunAsync("policy", "update", "-f", good, "-o", "json")).Json();
        Assert.Equal(Policy, set.GetProperty("policy").GetString());
        (await server.RunAsync("policy", "set", "-f", broken)).Error("parsing policy");
        Assert.Equal(Policy, (await server.JsonAsync("policy", "view")).GetProperty("policy").GetString());
    }

    [Fact]
    public async Task Policy_set_names_a_missing_file_or_flag()
    {
        (await server.RunAsync("policy", "set")).Error("--file");
        (await server.RunAsync("policy", "set", "-f", Path.Combine(server.Directory, "absent.hujson"))).Error("absent.hujson does not exist");
        (await server.RunAsync("policy", "set", "-f", Write("empty.hujson", " \n"))).Error("is empty");
        (await server.RunAsync("policy", "get", "--bypass-grpc-and-access-database-directly")).Error("is not supported");
    }

    [Fact]
    public async Task Health_reports_the_database_in_human_and_json_output()
    {
        Assert.Equal("healthy: the database is reachable\n", (await server.RunAsync("health")).Ok());
        Assert.True((await server.JsonAsync("health")).GetProperty("databaseConnectivity").GetBoolean());
    }

    [Fact]
    public async Task Version_in_human_and_json_output()
    {
        var human = (await server.RunAsync("version")).Ok();
        var json = await server.JsonAsync("version");

        var version = json.GetProperty("version").GetString()!;
        Assert.Matches(@"^\d+\.\d+\.\d+", version);
        Assert.StartsWith("v0.27", json.GetProperty("compatibleWith").GetString());
        Assert.Contains(version, human);
        Assert.Contains(json.GetProperty("commit").GetString()!, human);
    }

    [Fact]
    public async Task A_server_that_is_not_running_is_named_in_one_line()
    {
        var elsewhere = Path.Combine(server.Directory, "elsewhere.yaml");
        File.WriteAllText(elsewhere, $"noise:\n  private_key_path: noise_private.key\nunix_socket: {Path.Combine(server.Directory, "none.sock")}\n");

        var run = await Headscale.IntegrationTests.Support.CliProcess.RunAsync(server.Directory, TestContext.Current.CancellationToken, "users", "list", "-c", elsewhere);

        Assert.Equal(1, run.ExitCode);
        Assert.Equal($"Error: cannot reach headscale at unix://{Path.Combine(server.Directory, "none.sock")}: no such socket (is the server running?)", run.Stderr.Trim());
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(server.Directory, name);
        File.WriteAllText(path, content);
        return path;
    }
}
