using System.Data;
using System.Data.Common;
using EdgeProfile.Hosting;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Npgsql;

namespace EdgeProfile.Hub.Storage;

/// <summary>
/// The hub's database: a SQLite file (default) or PostgreSQL (<c>Hub:Storage=postgres</c>, <c>Hub:ConnectionString</c>).
/// Writes are serialised, each in one transaction, so that check-then-write sequences (token use, cursor advance,
/// identity merges) are atomic: on SQLite through one connection guarded by a semaphore, on PostgreSQL also across
/// hub replicas by a transaction-scoped advisory lock. Reads use pooled connections, which WAL (SQLite) or MVCC
/// (PostgreSQL) let run beside the writer.
/// </summary>
internal sealed class HubDatabase : IDisposable
{
    private const int BusyTimeoutMs = 10_000;
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    // pg_advisory_xact_lock(class, object) of the hub's single writer: shared by every replica on the same schema,
    // independent between schemas (hubs of different tenants or tests in one database).
    private const int WriterLockClass = 0x4550_5752; // 'EPWR'

    private readonly HubPaths _paths;
    private readonly HubOptions _options;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private SqliteConnection? _writer;
    private NpgsqlDataSource? _postgres;
    private FileStream? _dirLock;
    private string _readConnectionString = "";

    public HubDatabase(HubPaths paths, IOptions<HubOptions> options)
    {
        ArgumentNullException.ThrowIfNull(options);
        _paths = paths;
        _options = options.Value;
    }

    /// <summary>The backend's SQL differences.</summary>
    public HubDialect Dialect => _postgres is null ? HubDialect.Sqlite : HubDialect.Postgres;

    /// <summary>Where the data lives, for logs: the SQLite file, or PostgreSQL's host/database (no password).</summary>
    public string Location { get; private set; } = "";

    /// <summary>True on PostgreSQL, where other hub processes may write the same database.</summary>
    public bool IsShared => _postgres is not null;

    /// <summary>The PostgreSQL channel the replicas of this schema tell each other about changes on (null on SQLite).</summary>
    public string? ChangeChannel { get; private set; }

    /// <summary>The PostgreSQL data source (null on SQLite), for the change listener.</summary>
    internal NpgsqlDataSource? Postgres => _postgres;

    /// <summary>Creates the data directory, locks it against a second hub, opens the file and brings the schema up to date.</summary>
    public void Open()
    {
        if (_writer is not null || _postgres is not null)
        {
            return;
        }

        CreateDataDir();
        _dirLock = LockDataDir();
        if (string.Equals(_options.Storage?.Trim(), HubOptions.PostgresStorage, StringComparison.OrdinalIgnoreCase))
        {
            OpenPostgres();
            return;
        }

        SQLitePCL.Batteries_V2.Init();

        var builder = new SqliteConnectionStringBuilder
        {
            DataSource = _paths.Database,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = false,
            DefaultTimeout = BusyTimeoutMs / 1000,
        };
        CreateDatabaseFile();
        var writer = new SqliteConnection(builder.ToString());
        try
        {
            writer.Open();
            Execute(writer, $"PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = {BusyTimeoutMs};");
            HubSchema.Migrate(writer, _paths.Database);
        }
        catch (SqliteException ex)
        {
            writer.Dispose();
            throw new ConfigurationException($"Hub:DataDir: cannot open '{_paths.Database}': {ex.Message}", ex);
        }

        RestrictDatabaseFiles();

        builder.Mode = SqliteOpenMode.ReadWrite;
        builder.Pooling = true;
        _readConnectionString = builder.ToString();
        _writer = writer;
        Location = _paths.Database;
    }

    private void OpenPostgres()
    {
        NpgsqlConnectionStringBuilder builder;
        try
        {
            builder = new NpgsqlConnectionStringBuilder(_options.ConnectionString);
        }
        catch (ArgumentException ex)
        {
            throw new ConfigurationException($"Hub:ConnectionString: {ex.Message}", ex);
        }

        // Statements are reused across requests, not within one command object: let Npgsql prepare the frequent ones.
        var given = new DbConnectionStringBuilder { ConnectionString = _options.ConnectionString };
        bool Given(params string[] keys) => keys.Any(k => given.ContainsKey(k));
        if (!Given("Max Auto Prepare", "MaxAutoPrepare"))
        {
            builder.MaxAutoPrepare = 64;
            builder.AutoPrepareMinUsages = 2;
        }

        // A few connections keep two cores busy; more only queue inside PostgreSQL, and several replicas must stay
        // under its max_connections (100 by default). Requests beyond the pool wait for a free connection.
        if (!Given("Maximum Pool Size", "Max Pool Size", "MaxPoolSize"))
        {
            builder.MaxPoolSize = 20;
        }

        // The hub leaves no session state behind (transaction-scoped locks, no temp tables or SET), so a connection
        // going back to the pool needs no reset statement before its next use (Npgsql otherwise prepends one).
        if (!Given("No Reset On Close", "NoResetOnClose"))
        {
            builder.NoResetOnClose = true;
        }

        Location = $"postgres://{builder.Host}:{builder.Port}/{builder.Database}" + (builder.SearchPath is { Length: > 0 } path ? $" (schema {path})" : "");
        var source = NpgsqlDataSource.Create(builder.ConnectionString);
        try
        {
            using var connection = source.OpenConnection();
            PostgresSchema.Migrate(connection, Location);
            using var schema = new NpgsqlCommand("SELECT current_schema();", connection);
            ChangeChannel = "edgeprofile_" + (schema.ExecuteScalar() as string ?? "public");
        }
        catch (Exception ex) when (ex is NpgsqlException or InvalidOperationException)
        {
            source.Dispose();
            throw new ConfigurationException($"Hub:ConnectionString: cannot open {Location}: {ex.Message}", ex);
        }

        _postgres = source;
    }

    /// <summary>Runs <paramref name="work"/> in one write transaction; an exception rolls it back and propagates.</summary>
    public async Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, T> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        if (_writer is null && _postgres is null)
        {
            throw new InvalidOperationException("The hub database is not open.");
        }

        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_postgres is not null)
            {
                await using var connection = await _postgres.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
                await using var ptx = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
                await using (var lockCommand = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({WriterLockClass}, hashtext(current_schema()));", connection, ptx))
                {
                    await lockCommand.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
                }

                var written = work(connection, ptx);
                await ptx.CommitAsync(cancellationToken).ConfigureAwait(false);
                return written;
            }

            using var tx = _writer!.BeginTransaction();
            var result = work(_writer, tx);
            tx.Commit();
            return result;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>Starts a read-only snapshot on <paramref name="connection"/> (deferred on SQLite, so it takes no write lock).</summary>
    public static DbTransaction BeginRead(DbConnection connection) => connection switch
    {
        SqliteConnection sqlite => sqlite.BeginTransaction(deferred: true),
        _ => connection.BeginTransaction(IsolationLevel.RepeatableRead),
    };

    /// <summary>An open read connection (pooled), for readers that keep their own prepared statements.</summary>
    public DbConnection OpenRead()
    {
        if (_postgres is not null)
        {
            return _postgres.OpenConnection();
        }

        if (_writer is null)
        {
            throw new InvalidOperationException("The hub database is not open.");
        }

        var connection = new SqliteConnection(_readConnectionString);
        connection.Open();
        return connection;
    }

    /// <summary>Runs <paramref name="work"/> on a pooled read connection (a consistent snapshot inside one transaction).</summary>
    public Task<T> ReadAsync<T>(Func<DbConnection, T> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        cancellationToken.ThrowIfCancellationRequested();
        using var connection = OpenRead();
        using var tx = BeginRead(connection);
        var result = work(connection);
        tx.Commit();
        return Task.FromResult(result);
    }

    public void Dispose()
    {
        _postgres?.Dispose();
        _postgres = null;
        if (_writer is not null)
        {
            SqliteConnection.ClearPool(new SqliteConnection(_readConnectionString));
            _writer.Dispose();
            _writer = null;
        }

        _dirLock?.Dispose();
        _dirLock = null;
        _writeLock.Dispose();
    }

    private static void Execute(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    // The database holds credential hashes and customer keys. SQLite gives the -wal and -shm files the mode of the
    // database file, so create it owner-only before SQLite does.
    private void CreateDatabaseFile()
    {
        if (OperatingSystem.IsWindows() || File.Exists(_paths.Database))
        {
            return;
        }

        try
        {
            using var _ = new FileStream(_paths.Database, new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                UnixCreateMode = OwnerOnly,
            });
        }
        catch (IOException) when (File.Exists(_paths.Database))
        {
            // Created meanwhile; fine.
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException($"Hub:DataDir: cannot create '{_paths.Database}': {ex.Message}", ex);
        }
    }

    private void RestrictDatabaseFiles()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        foreach (var path in new[] { _paths.Database, _paths.Database + "-wal", _paths.Database + "-shm" })
        {
            if (File.Exists(path))
            {
                File.SetUnixFileMode(path, OwnerOnly);
            }
        }
    }

    private void CreateDataDir()
    {
        try
        {
            if (!Directory.Exists(_paths.DataDir))
            {
                if (OperatingSystem.IsWindows())
                {
                    Directory.CreateDirectory(_paths.DataDir);
                }
                else
                {
                    Directory.CreateDirectory(_paths.DataDir, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
                }
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new ConfigurationException($"Hub:DataDir: cannot create '{_paths.DataDir}': {ex.Message}", ex);
        }
    }

    private FileStream LockDataDir()
    {
        try
        {
            // FileShare.None takes an exclusive advisory lock on Unix: a second hub on the same directory fails here
            // instead of interleaving writes with this one.
            return new FileStream(_paths.Lock, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException ex)
        {
            throw new ConfigurationException($"Hub:DataDir: '{_paths.DataDir}' is in use by another hub process ({ex.Message})", ex);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new ConfigurationException($"Hub:DataDir: cannot write in '{_paths.DataDir}': {ex.Message}", ex);
        }
    }
}
