using System.Globalization;
using System.Text.Json;
using Headscale.IntegrationTests.Support;

namespace Headscale.IntegrationTests.CliManagement;

/// <summary>
/// One real <c>headscale serve</c> (SQLite, policy in database mode, remote gRPC in cleartext) per
/// test class, and the real CLI run against it: over the unix socket by default, or over the
/// remote address with an API key. Tests share the server, so each makes its own users.
/// </summary>
public sealed class CliServer : IAsyncLifetime
{
    private readonly TestServerConfig _config = new()
    {
        // The machine running the tests may be busy; the first calls on a fresh server pay for JIT and actor start.
        Extra = "grpc_allow_insecure: true\npolicy:\n  mode: database\ncli:\n  timeout: 60s\n",
    };

    private ServerProcess? _server;
    private int _names;

    public string Directory => _config.Directory;

    public string RemoteAddress => $"http://127.0.0.1:{_config.GrpcPort}";

    private static CancellationToken Ct => TestContext.Current.CancellationToken;

    public async ValueTask InitializeAsync() => _server = await ServerProcess.StartAsync(_config, Ct);

    /// <summary>A name no other test on this server uses.</summary>
    public string UniqueName(string prefix) =>
        prefix + Interlocked.Increment(ref _names).ToString(CultureInfo.InvariantCulture);

    /// <summary>The CLI over the unix socket (no <c>cli.address</c>, so no key).</summary>
    public Task<CliRun> RunAsync(params string[] args) => RunWithEnvironmentAsync(new Dictionary<string, string>(), args);

    /// <summary>The CLI over <c>cli.address</c> with <paramref name="apiKey"/>, both given as environment overrides.</summary>
    public Task<CliRun> RunRemoteAsync(string apiKey, params string[] args) =>
        RunWithEnvironmentAsync(new Dictionary<string, string>
        {
            ["HEADSCALE_CLI_ADDRESS"] = RemoteAddress,
            ["HEADSCALE_CLI_API_KEY"] = apiKey,
        }, args);

    /// <summary>Runs with <c>-o json</c>, requires success and returns the parsed document's root.</summary>
    public async Task<JsonElement> JsonAsync(params string[] args)
    {
        var run = await RunAsync([.. args, "-o", "json"]);
        return run.Json();
    }

    /// <summary>Creates a user and returns its id and name.</summary>
    public async Task<(string Id, string Name)> CreateUserAsync(string prefix = "user")
    {
        var name = UniqueName(prefix);
        var user = await JsonAsync("users", "create", name);
        return (user.GetProperty("id").GetString()!, name);
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _config.Dispose();
    }

    private async Task<CliRun> RunWithEnvironmentAsync(IReadOnlyDictionary<string, string> environment, string[] args)
    {
        var result = await CliProcess.RunAsync(Directory, environment, Ct, [.. args, "-c", _config.ConfigPath]);
        return new CliRun(args, result.ExitCode, result.Stdout.Replace("\r\n", "\n", StringComparison.Ordinal), result.Stderr);
    }
}

/// <summary>What one run of the CLI printed; the assertions say which command failed.</summary>
public sealed record CliRun(string[] Args, int ExitCode, string Stdout, string Stderr)
{
    private string Command => "headscale " + string.Join(' ', Args);

    /// <summary>Stdout lines, without the trailing empty one.</summary>
    public string[] Lines => Stdout.TrimEnd('\n').Split('\n');

    /// <summary>Requires exit code 0 and returns stdout.</summary>
    public string Ok()
    {
        Assert.True(ExitCode == 0, $"{Command} exited {ExitCode}\nstdout: {Stdout}\nstderr: {Stderr}");
        return Stdout;
    }

    /// <summary>Requires exit code 0 and JSON on stdout; returns its root.</summary>
    public JsonElement Json()
    {
        using var document = JsonDocument.Parse(Ok());
        return document.RootElement.Clone();
    }

    /// <summary>Requires exit code 1 and exactly one <c>Error: …</c> line on stderr, containing <paramref name="expected"/>.</summary>
    public string Error(string expected)
    {
        Assert.True(ExitCode == 1, $"{Command} exited {ExitCode}, expected 1\nstdout: {Stdout}\nstderr: {Stderr}");
        var line = Assert.Single(Stderr.TrimEnd('\n').Split('\n'));
        Assert.StartsWith("Error: ", line);
        Assert.Contains(expected, line);
        return line;
    }

    /// <summary>With <c>-o json</c>: requires exit code 1 and an <c>{"error": …}</c> object on stdout.</summary>
    public string JsonError(string expected)
    {
        Assert.True(ExitCode == 1, $"{Command} exited {ExitCode}, expected 1\nstdout: {Stdout}\nstderr: {Stderr}");
        using var document = JsonDocument.Parse(Stdout);
        var message = document.RootElement.GetProperty("error").GetString()!;
        Assert.Contains(expected, message);
        return message;
    }

    /// <summary>The human table: header cells and the rows, each split on the column separator.</summary>
    public (string[] Headers, string[][] Rows) Table()
    {
        var lines = Ok().TrimEnd('\n').Split('\n');
        static string[] Cells(string line) => line.Split('|').Select(c => c.Trim()).ToArray();
        return (Cells(lines[0]), lines.Skip(1).Select(Cells).ToArray());
    }
}
