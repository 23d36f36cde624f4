using EdgeProfile.Hosting;
using Microsoft.Data.Sqlite;

namespace EdgeProfile.Hub.Storage;

/// <summary>
/// The hub's SQLite file. Writes go through one connection guarded by a semaphore, each in one transaction, so
/// that check-then-write sequences (token use, cursor advance) are atomic; reads use pooled connections, which WAL
/// lets run beside the writer.
/// </summary>
internal sealed class HubDatabase : IDisposable
{
    private const int BusyTimeoutMs = 10_000;
    private const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    private readonly HubPaths _paths;
    private readonly SemaphoreSlim _writeLock = new(1, 1);
    private SqliteConnection? _writer;
    private FileStream? _dirLock;
    private string _readConnectionString = "";

    public HubDatabase(HubPaths paths)
    {
        _paths = paths;
    }

    /// <summary>Creates the data directory, locks it against a second hub, opens the file and brings the schema up to date.</summary>
    public void Open()
    {
        if (_writer is not null)
        {
            return;
        }

        CreateDataDir();
        _dirLock = LockDataDir();
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
    }

    /// <summary>Runs <paramref name="work"/> in one write transaction; an exception rolls it back and propagates.</summary>
    public async Task<T> WriteAsync<T>(Func<SqliteConnection, SqliteTransaction, T> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        var writer = _writer ?? throw new InvalidOperationException("The hub database is not open.");
        await _writeLock.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            using var tx = writer.BeginTransaction();
            var result = work(writer, tx);
            tx.Commit();
            return result;
        }
        finally
        {
            _writeLock.Release();
        }
    }

    /// <summary>An open read connection (pooled), for readers that keep their own prepared statements.</summary>
    public SqliteConnection OpenRead()
    {
        if (_writer is null)
        {
            throw new InvalidOperationException("The hub database is not open.");
        }

        var connection = new SqliteConnection(_readConnectionString);
        connection.Open();
        return connection;
    }

    /// <summary>Runs <paramref name="work"/> on a pooled read connection (a consistent snapshot inside one transaction).</summary>
    public Task<T> ReadAsync<T>(Func<SqliteConnection, T> work, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(work);
        cancellationToken.ThrowIfCancellationRequested();
        if (_writer is null)
        {
            throw new InvalidOperationException("The hub database is not open.");
        }

        using var connection = new SqliteConnection(_readConnectionString);
        connection.Open();
        using var tx = connection.BeginTransaction(deferred: true);
        var result = work(connection);
        tx.Commit();
        return Task.FromResult(result);
    }

    public void Dispose()
    {
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
