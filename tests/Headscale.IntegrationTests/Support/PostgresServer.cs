using System.Diagnostics;
using Npgsql;

namespace Headscale.IntegrationTests.Support;

/// <summary>
/// A throwaway PostgreSQL server for the test run: initdb into a temporary directory, started on a
/// free loopback port, trust authentication. Tests can stop and start it to simulate an outage.
/// Needs the server binaries (Debian's <c>postgresql</c> package); test.sh installs them.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    private readonly string _binDirectory;
    private readonly string _root;
    private readonly string _dataDirectory;
    private int _databaseCounter;

    private PostgresServer(string binDirectory, string root, int port)
    {
        _binDirectory = binDirectory;
        _root = root;
        _dataDirectory = Path.Combine(root, "data");
        Port = port;
    }

    public int Port { get; }

    public string Host => "127.0.0.1";

    public const string User = "postgres";

    public static async Task<PostgresServer> StartNewAsync()
    {
        var bin = FindBinDirectory()
            ?? throw new InvalidOperationException(
                "PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin: install them with 'apt-get install -y postgresql' (test.sh does this).");
        var root = Path.Combine(Path.GetTempPath(), $"hs-pg-{Environment.ProcessId}-{Guid.NewGuid():N}"[..24]);
        Directory.CreateDirectory(root);
        if (IsRoot)
        {
            // initdb refuses to run as root; the postgres user must own and traverse the directory.
            await RunAsync("chown", $"postgres:postgres {root}", asPostgres: false);
            await RunAsync("chmod", $"700 {root}", asPostgres: false);
        }

        var server = new PostgresServer(bin, root, TestPorts.GetFree());
        await server.RunToolAsync("initdb", $"-D {server._dataDirectory} -U {User} --auth=trust -E UTF8 --locale=C.UTF-8 --no-sync");
        await server.StartAsync();
        return server;
    }

    public async Task StartAsync()
    {
        var options = $"-p {Port} -k {_root} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200";
        await RunToolAsync("pg_ctl", $"-D {_dataDirectory} -l {Path.Combine(_root, "pg.log")} -w -t 60 -o \"{options}\" start");
    }

    public Task StopAsync() => RunToolAsync("pg_ctl", $"-D {_dataDirectory} -m fast -w -t 60 stop");

    /// <summary>Creates a fresh, empty database and returns its name.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix)
    {
        var name = $"{prefix}_{Interlocked.Increment(ref _databaseCounter)}_{Guid.NewGuid():N}"[..40].ToLowerInvariant();
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
        return name;
    }

    public string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder { Host = Host, Port = Port, Username = User, Database = database, Pooling = false }.ToString();

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        catch (InvalidOperationException)
        {
            // Already stopped by a test.
        }

        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static bool IsRoot => Environment.UserName == "root";

    private static string? FindBinDirectory()
    {
        const string root = "/usr/lib/postgresql";
        if (!Directory.Exists(root))
        {
            return null;
        }

        return Directory.GetDirectories(root)
            .Select(d => Path.Combine(d, "bin"))
            .Where(d => File.Exists(Path.Combine(d, "initdb")))
            .OrderByDescending(d => int.TryParse(Path.GetFileName(Path.GetDirectoryName(d)), out var v) ? v : 0)
            .FirstOrDefault();
    }

    private Task RunToolAsync(string tool, string arguments) =>
        RunAsync(Path.Combine(_binDirectory, tool), arguments, asPostgres: IsRoot);

    private static async Task RunAsync(string file, string arguments, bool asPostgres)
    {
        var start = asPostgres
            ? new ProcessStartInfo("runuser", $"-u postgres -- {file} {arguments}")
            : new ProcessStartInfo(file, arguments);
        start.RedirectStandardOutput = true;
        start.RedirectStandardError = true;
        start.WorkingDirectory = "/tmp";
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {arguments} failed ({process.ExitCode}): {await stderr}{await stdout}");
        }
    }
}
