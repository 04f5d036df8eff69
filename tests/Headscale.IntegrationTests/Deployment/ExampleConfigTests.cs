using System.Diagnostics;
using System.Text.Json;
using Headscale.IntegrationTests.Support;

namespace Headscale.IntegrationTests.Deployment;

/// <summary>config/config.yaml and config/policy.json, the files the compose stack mounts into the server.</summary>
public sealed class ExampleConfigTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    [Fact]
    public async Task The_example_config_passes_configtest_with_the_container_paths_moved_here()
    {
        var directory = Path.Combine(Path.GetTempPath(), "hs-example-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(directory);
        try
        {
            var text = RepositoryFiles.Read("config", "config.yaml");
            const string policyPath = "path: /etc/headscale/policy.json";
            Assert.Equal(1, CountOf(text, policyPath));
            var config = Path.Combine(directory, "config.yaml");
            await File.WriteAllTextAsync(config, text.Replace(policyPath, $"path: {RepositoryFiles.PathOf("config", "policy.json")}", StringComparison.Ordinal), Ct);

            var (exitCode, output) = await ConfigTestAsync(config, new Dictionary<string, string>
            {
                // What compose/docker-compose.yml sets from compose/.env.
                ["HEADSCALE_SERVER_URL"] = "https://headscale.example.org",
                ["HEADSCALE_DATABASE_POSTGRES_PASS"] = "secret",
            });

            Assert.True(exitCode == 0, output);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public async Task Configtest_names_the_key_when_the_environment_override_is_bad()
    {
        var directory = Path.Combine(Path.GetTempPath(), "hs-example-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(directory);
        try
        {
            var config = Path.Combine(directory, "config.yaml");
            await File.WriteAllTextAsync(config, RepositoryFiles.Read("config", "config.yaml").Replace("/etc/headscale/policy.json", RepositoryFiles.PathOf("config", "policy.json"), StringComparison.Ordinal), Ct);

            var (exitCode, output) = await ConfigTestAsync(config, new Dictionary<string, string> { ["HEADSCALE_SERVER_URL"] = "ftp://headscale.example.org" });

            Assert.Equal(1, exitCode);
            Assert.Contains("server_url", output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void The_example_policy_is_json_and_uses_only_groups_it_defines()
    {
        using var policy = JsonDocument.Parse(RepositoryFiles.Read("config", "policy.json"), new JsonDocumentOptions { CommentHandling = JsonCommentHandling.Skip, AllowTrailingCommas = true });
        var groups = policy.RootElement.GetProperty("groups").EnumerateObject().Select(g => g.Name).ToHashSet(StringComparer.Ordinal);
        var tags = policy.RootElement.GetProperty("tagOwners").EnumerateObject().Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
        var aliases = policy.RootElement.GetProperty("acls").EnumerateArray()
            .SelectMany(rule => rule.GetProperty("src").EnumerateArray().Concat(rule.GetProperty("dst").EnumerateArray()))
            .Select(e => e.GetString()!)
            .ToArray();

        Assert.NotEmpty(aliases);
        Assert.All(aliases.Where(a => a.StartsWith("group:", StringComparison.Ordinal)), a => Assert.Contains(a.Split(':')[0] + ":" + a.Split(':')[1], groups));
        Assert.All(aliases.Where(a => a.StartsWith("tag:", StringComparison.Ordinal)), a => Assert.Contains(a.Split(':')[0] + ":" + a.Split(':')[1], tags));
    }

    private static int CountOf(string text, string value) => text.Split(value).Length - 1;

    private static async Task<(int ExitCode, string Output)> ConfigTestAsync(string configPath, IReadOnlyDictionary<string, string> environment)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            ArgumentList = { ServerProcess.ExecutablePath, "configtest", "-c", configPath },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            WorkingDirectory = Path.GetDirectoryName(configPath)!,
        };
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("HEADSCALE_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync(Ct);
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct);
        return (process.ExitCode, await stdout + await stderr);
    }
}
