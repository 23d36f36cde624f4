using Microsoft.Data.Sqlite;

namespace EdgeProfile.IntegrationTests.Infrastructure;

/// <summary>Reads an edge's edge.db directly, read-only, once its agent has stopped.</summary>
public sealed class EdgeDatabaseFile : IDisposable
{
    private readonly SqliteConnection _connection;

    public EdgeDatabaseFile(string dataDir)
    {
        SQLitePCL.Batteries_V2.Init();
        var path = Path.Combine(dataDir, "edge.db");
        Assert.True(File.Exists(path), $"{path} does not exist");
        _connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        _connection.Open();
    }

    public string IntegrityCheck() => string.Join("; ", Strings("PRAGMA integrity_check"));

    public long Count(string table) => Scalar($"SELECT COUNT(*) FROM {table}");

    /// <summary>Every stored event id, one entry per row (so a duplicate would show up twice).</summary>
    public List<string> EventIds() => Strings("SELECT event_id FROM events");

    public long Counter(string name) => Scalar($"SELECT COALESCE((SELECT value FROM counters WHERE name = '{name}'), 0)");

    public long Scalar(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    public void Dispose() => _connection.Dispose();

    private List<string> Strings(string sql)
    {
        using var command = _connection.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var list = new List<string>();
        while (reader.Read())
        {
            list.Add(reader.GetString(0));
        }

        return list;
    }
}
