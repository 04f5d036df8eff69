namespace Headscale.Actors.Persistence;

/// <summary>Which relational database holds the Akka journal and snapshots.</summary>
public enum DatabaseKind
{
    Sqlite,
    Postgres,
}

/// <summary>
/// Connection facts for the journal database, already validated by the configuration layer.
/// </summary>
public sealed record DatabaseSettings
{
    public required DatabaseKind Kind { get; init; }

    /// <summary>Absolute path of the SQLite file (only for <see cref="DatabaseKind.Sqlite"/>).</summary>
    public string SqlitePath { get; init; } = "";

    public bool SqliteWriteAheadLog { get; init; } = true;

    public string PostgresHost { get; init; } = "";
    public int PostgresPort { get; init; } = 5432;
    public string PostgresDatabase { get; init; } = "";
    public string PostgresUser { get; init; } = "";
    public string PostgresPassword { get; init; } = "";

    /// <summary>Headscale's <c>database.postgres.ssl</c>: true → require, false → disable, other text → sslmode as given.</summary>
    public string PostgresSslMode { get; init; } = "disable";

    public int PostgresMaxPoolSize { get; init; } = 10;

    /// <summary>The ADO.NET connection string for the configured database.</summary>
    public string ConnectionString => Kind switch
    {
        DatabaseKind.Sqlite => new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder
        {
            DataSource = SqlitePath,
            Mode = Microsoft.Data.Sqlite.SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 30,
        }.ToString(),
        DatabaseKind.Postgres => new Npgsql.NpgsqlConnectionStringBuilder
        {
            Host = PostgresHost,
            Port = PostgresPort,
            Database = PostgresDatabase,
            Username = PostgresUser,
            Password = string.IsNullOrEmpty(PostgresPassword) ? null : PostgresPassword,
            SslMode = ParseSslMode(PostgresSslMode),
            MaxPoolSize = PostgresMaxPoolSize,
            Timeout = 5,
            CommandTimeout = 30,
        }.ToString(),
        _ => throw new InvalidOperationException($"unknown database kind {Kind}"),
    };

    /// <summary>The linq2db provider name Akka.Persistence.Sql uses for this database.</summary>
    public string Linq2DbProvider => Kind switch
    {
        DatabaseKind.Sqlite => LinqToDB.ProviderName.SQLiteMS,
        DatabaseKind.Postgres => LinqToDB.ProviderName.PostgreSQL15,
        _ => throw new InvalidOperationException($"unknown database kind {Kind}"),
    };

    /// <summary>Maps Headscale's <c>database.postgres.ssl</c> value to an Npgsql SSL mode.</summary>
    public static Npgsql.SslMode ParseSslMode(string value) => value.Trim().ToLowerInvariant() switch
    {
        "true" or "require" => Npgsql.SslMode.Require,
        "false" or "disable" or "" => Npgsql.SslMode.Disable,
        "allow" => Npgsql.SslMode.Allow,
        "prefer" => Npgsql.SslMode.Prefer,
        "verify-ca" => Npgsql.SslMode.VerifyCA,
        "verify-full" => Npgsql.SslMode.VerifyFull,
        _ => throw new ArgumentException($"unknown sslmode '{value}'", nameof(value)),
    };

    /// <summary>A text safe to log: no password.</summary>
    public string Describe() => Kind switch
    {
        DatabaseKind.Sqlite => $"sqlite {SqlitePath}",
        _ => $"postgres {PostgresUser}@{PostgresHost}:{PostgresPort}/{PostgresDatabase}",
    };
}
