using System.Text.Json;
using Headscale.IntegrationTests.Support;

namespace Headscale.IntegrationTests;

/// <summary>The real executable's offline commands.</summary>
public sealed class CliTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task Configtest_accepts_a_good_config()
    {
        using var config = new TestServerConfig();
        config.Write();

        var result = await CliProcess.RunAsync(config.Directory, Ct, "configtest", "-c", config.ConfigPath);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("is valid", result.Stdout);
    }

    [Fact]
    public async Task Configtest_rejects_a_bad_config_naming_each_key()
    {
        using var config = new TestServerConfig { Extra = "prefixes:\n  v4: 10.0.0.0/8\ndatabase:\n  type: oracle\n" };
        config.Write();

        var human = await CliProcess.RunAsync(config.Directory, Ct, "configtest", "-c", config.ConfigPath);
        var json = await CliProcess.RunAsync(config.Directory, Ct, "configtest", "-c", config.ConfigPath, "-o", "json");

        Assert.Equal(1, human.ExitCode);
        Assert.Contains("prefixes.v4: '10.0.0.0/8' is outside 100.64.0.0/10", human.Stderr);
        Assert.Contains("database.type: 'oracle' is not one of", human.Stderr);
        Assert.Equal(1, json.ExitCode);
        using var doc = JsonDocument.Parse(json.Stdout);
        Assert.False(doc.RootElement.GetProperty("valid").GetBoolean());
        Assert.Equal(["database.type", "prefixes.v4"],
            doc.RootElement.GetProperty("problems").EnumerateArray().Select(p => p.GetProperty("key").GetString()).Order());
    }

    [Fact]
    public async Task Serve_refuses_to_start_on_a_bad_config()
    {
        using var config = new TestServerConfig { Extra = "listen_addr: nowhere\n" };
        config.Write();

        var result = await CliProcess.RunAsync(config.Directory, Ct, "serve", "-c", config.ConfigPath);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("listen_addr", result.Stderr);
    }

    [Theory]
    [InlineData("json")]
    [InlineData("json-line")]
    [InlineData("yaml")]
    [InlineData("human")]
    public async Task Generate_private_key_in_every_output_format(string format)
    {
        var result = await CliProcess.RunAsync(Path.GetTempPath(), Ct, "generate", "private-key", "-o", format);

        Assert.Equal(0, result.ExitCode);
        Assert.Matches("privkey:[0-9a-f]{64}", result.Stdout);
    }

    [Fact]
    public async Task Unknown_output_format_is_a_clear_error()
    {
        var result = await CliProcess.RunAsync(Path.GetTempPath(), Ct, "version", "-o", "xml");

        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("--output: 'xml' is not one of human, json, json-line, yaml", result.Stderr);
    }

    [Fact]
    public async Task Policy_check_accepts_a_good_policy_and_names_the_problem_in_a_bad_one()
    {
        using var config = new TestServerConfig();
        var good = Path.Combine(config.Directory, "good.hujson");
        var bad = Path.Combine(config.Directory, "bad.hujson");
        File.WriteAllText(good, "{\n  // everyone to everything\n  \"acls\": [{\"action\": \"accept\", \"src\": [\"*\"], \"dst\": [\"*:*\"]},],\n}\n");
        File.WriteAllText(bad, "{\"acls\": [], \"groupz\": {}}");

        var ok = await CliProcess.RunAsync(config.Directory, Ct, "policy", "check", "-f", good);
        var refused = await CliProcess.RunAsync(config.Directory, Ct, "policy", "check", "-f", bad, "-o", "json");
        var missing = await CliProcess.RunAsync(config.Directory, Ct, "policy", "check", "-f", "nope.hujson");

        Assert.Equal(0, ok.ExitCode);
        Assert.Contains("is valid", ok.Stdout);
        Assert.Equal(1, refused.ExitCode);
        using var doc = JsonDocument.Parse(refused.Stdout);
        Assert.Contains("groupz", doc.RootElement.GetProperty("error").GetString());
        Assert.Equal(1, missing.ExitCode);
        Assert.Contains("does not exist", missing.Stderr);
    }

    [Fact]
    public async Task Policy_evaluate_prints_the_corpus_shape_for_a_scenario()
    {
        var scenario = Directory.EnumerateFiles(ConformanceDirectory(), "*.json", SearchOption.AllDirectories).First(f => !f.EndsWith("README.json", StringComparison.Ordinal));

        var result = await CliProcess.RunAsync(Path.GetTempPath(), Ct, "policy", "evaluate", "--scenario", scenario, "-o", "json");

        Assert.Equal(0, result.ExitCode);
        using var doc = JsonDocument.Parse(result.Stdout);
        Assert.True(doc.RootElement.TryGetProperty("error", out _));
        Assert.Equal(JsonValueKind.Object, doc.RootElement.GetProperty("nodes").ValueKind);
    }

    private static string ConformanceDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "shared", "conformance", "policy");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("shared/conformance/policy not found above the test binaries");
    }
}
