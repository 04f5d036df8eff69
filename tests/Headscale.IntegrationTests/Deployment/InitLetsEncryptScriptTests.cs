using System.Diagnostics;

namespace Headscale.IntegrationTests.Deployment;

/// <summary>
/// scripts/init-letsencrypt.sh: shellcheck-clean, and it refuses bad input before touching Docker.
/// (The happy path needs a Docker engine and a public DNS name; docs/deployment.md walks through it.)
/// </summary>
public sealed class InitLetsEncryptScriptTests
{
    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    private static string Script => RepositoryFiles.PathOf("scripts", "init-letsencrypt.sh");

    [Fact]
    public async Task Shellcheck_finds_nothing()
    {
        var (exitCode, output) = await RunAsync("shellcheck", Script, RepositoryFiles.PathOf("test.sh"));

        Assert.True(exitCode == 0, output);
    }

    [Theory]
    [InlineData("unknown argument '--bogus'", "--bogus")]
    [InlineData("--domain needs a value", "--domain")]
    [InlineData("'bad domain' is not a public DNS name", "--domain", "bad domain", "--email", "ops@example.org")]
    [InlineData("'localhost' is not a public DNS name", "--domain", "localhost", "--email", "ops@example.org")]
    [InlineData("still the example value", "--domain", "headscale.example.com", "--email", "ops@example.org")]
    [InlineData("'ops' is not an e-mail address", "--domain", "hs.example.org", "--email", "ops")]
    public async Task Bad_input_is_refused_with_a_message_naming_it(string expected, params string[] arguments)
    {
        var (exitCode, output) = await RunAsync("bash", [Script, .. arguments]);

        Assert.Equal(1, exitCode);
        Assert.Contains(expected, output, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{file} did not start (is it installed? test.sh installs it)");
        var stdout = process.StandardOutput.ReadToEndAsync(Ct);
        var stderr = process.StandardError.ReadToEndAsync(Ct);
        await process.WaitForExitAsync(Ct);
        return (process.ExitCode, await stdout + await stderr);
    }
}
