using Headscale.Api.Cli;
using Headscale.Api.Cli.Management;
using Headscale.Api.Tests.Management;
using Xunit;

namespace Headscale.Api.Tests.Cli;

/// <summary>What one in-process CLI run printed and returned.</summary>
public sealed record CliRun(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>Stdout lines without the trailing empty one.</summary>
    public string[] Lines => Stdout.TrimEnd('\n').Split('\n');
}

/// <summary>
/// The management test server (fake facades behind real Kestrel, gRPC on a unix socket) and a
/// config.yaml pointing the CLI at that socket. The CLI tree runs in-process, as the executable does.
/// </summary>
public sealed class CliHarness : IAsyncLifetime
{
    public static readonly DateTimeOffset Now = ManagementTestServer.Now;

    private ManagementTestServer? _server;

    internal FakeManagement Facades { get; } = new();

    internal ManagementTestServer Server => _server ?? throw new InvalidOperationException("harness not started");

    public string Directory { get; } = System.IO.Directory.CreateTempSubdirectory("hs-cli-").FullName;

    public string ConfigPath => Path.Combine(Directory, "config.yaml");

    public async ValueTask InitializeAsync()
    {
        _server = await ManagementTestServer.StartAsync(Facades, TestContext.Current.CancellationToken);
        File.WriteAllText(ConfigPath, ConfigYaml($"unix_socket: {_server.SocketPath}\n"));
    }

    /// <summary>A config.yaml in the harness directory with <paramref name="extra"/> appended; returns its path.</summary>
    public string WriteConfig(string name, string extra)
    {
        var path = Path.Combine(Directory, name);
        File.WriteAllText(path, ConfigYaml(extra));
        return path;
    }

    /// <summary>Runs the CLI against the harness server; stdin is not interactive unless <paramref name="input"/> says so.</summary>
    public Task<CliRun> RunAsync(params string[] args) => RunWithInputAsync(new CliInput(TextReader.Null, IsInteractive: false), args);

    public async Task<CliRun> RunWithInputAsync(CliInput input, params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var withConfig = args.Contains("-c") ? args : [.. args, "-c", ConfigPath];
        var code = await CliApplication.RunAsync(withConfig, stdout, stderr, input, new ManualTimeProvider(Now));
        return new CliRun(code, stdout.ToString().Replace("\r\n", "\n", StringComparison.Ordinal), stderr.ToString());
    }

    public async ValueTask DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        System.IO.Directory.Delete(Directory, recursive: true);
    }

    private string ConfigYaml(string extra) =>
        $"noise:\n  private_key_path: {Path.Combine(Directory, "noise.key")}\n" +
        $"database:\n  type: sqlite\n  sqlite:\n    path: {Path.Combine(Directory, "db.sqlite")}\n" + extra;
}

/// <summary>Every CLI test class shares one harness and runs one at a time (the option objects are shared).</summary>
[CollectionDefinition(Name)]
public sealed class CliCollection : ICollectionFixture<CliHarness>
{
    public const string Name = "cli";
}
