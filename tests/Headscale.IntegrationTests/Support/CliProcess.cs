using System.Diagnostics;

namespace Headscale.IntegrationTests.Support;

/// <summary>Runs the real <c>headscale</c> executable once and captures what it prints.</summary>
public static class CliProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr);

    public static Task<Result> RunAsync(string workingDirectory, CancellationToken cancellationToken, params string[] args) =>
        RunAsync(workingDirectory, new Dictionary<string, string>(), cancellationToken, args);

    /// <summary>
    /// Runs with <paramref name="environment"/> as the only <c>HEADSCALE_*</c> variables and stdin
    /// closed, so the CLI never sees an interactive terminal.
    /// </summary>
    public static async Task<Result> RunAsync(
        string workingDirectory, IReadOnlyDictionary<string, string> environment, CancellationToken cancellationToken, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            WorkingDirectory = workingDirectory,
        };
        start.ArgumentList.Add(ServerProcess.ExecutablePath);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("HEADSCALE_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }

        foreach (var (key, value) in environment)
        {
            start.Environment[key] = value;
        }

        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken);
        return new Result(process.ExitCode, await stdout, await stderr);
    }
}
