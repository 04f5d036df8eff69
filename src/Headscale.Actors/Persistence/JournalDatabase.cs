using System.Data.Common;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Headscale.Actors.Persistence;

/// <summary>
/// Direct access to the journal database outside Akka: preparing it before the actor system starts
/// and answering whether it is reachable (the <c>/health</c> check).
/// </summary>
public sealed class JournalDatabase : IAsyncDisposable
{
    private readonly DatabaseSettings _settings;
    private readonly NpgsqlDataSource? _postgres;

    public JournalDatabase(DatabaseSettings settings)
    {
        _settings = settings;
        if (settings.Kind == DatabaseKind.Postgres)
        {
            // A small separate pool for probes so a busy journal pool cannot make health checks lie.
            var builder = new NpgsqlConnectionStringBuilder(settings.ConnectionString) { MaxPoolSize = 2, Timeout = 3 };
            _postgres = NpgsqlDataSource.Create(builder);
        }
    }

    public DatabaseSettings Settings => _settings;

    /// <summary>
    /// Creates the SQLite file's directory and switches the file to WAL mode (it persists in the file).
    /// Without WAL, many concurrent writers trip the journal's circuit breaker.
    /// </summary>
    public async Task PrepareAsync(CancellationToken cancellationToken)
    {
        if (_settings.Kind != DatabaseKind.Sqlite)
        {
            return;
        }

        var directory = Path.GetDirectoryName(_settings.SqlitePath);
        if (!string.IsNullOrEmpty(directory))
        {
            Directory.CreateDirectory(directory);
        }

        await using var connection = new SqliteConnection(_settings.ConnectionString);
        await connection.OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = _settings.SqliteWriteAheadLog ? "PRAGMA journal_mode=WAL;" : "PRAGMA journal_mode=DELETE;";
        await command.ExecuteScalarAsync(cancellationToken);
    }

    /// <summary>Runs <c>SELECT 1</c>; true when the database answered within the token's time.</summary>
    public async Task<bool> PingAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using DbConnection connection = _postgres is not null
                ? _postgres.CreateConnection()
                : new SqliteConnection(_settings.ConnectionString);
            await connection.OpenAsync(cancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT 1";
            var result = await command.ExecuteScalarAsync(cancellationToken);
            return Convert.ToInt32(result, System.Globalization.CultureInfo.InvariantCulture) == 1;
        }
        catch (Exception e) when (e is DbException or IOException or TimeoutException or OperationCanceledException or InvalidOperationException)
        {
            if (_postgres is not null && e is NpgsqlException)
            {
                // Connections of a restarted server are dead; do not hand them out again.
                NpgsqlConnection.ClearAllPools();
            }

            return false;
        }
    }

    public ValueTask DisposeAsync() => _postgres?.DisposeAsync() ?? ValueTask.CompletedTask;
}
