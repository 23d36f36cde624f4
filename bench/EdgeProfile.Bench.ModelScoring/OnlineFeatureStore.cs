using System.Runtime.InteropServices;
using Microsoft.Data.Sqlite;

namespace EdgeProfile.Bench.ModelScoring;

/// <summary>
/// A real SQLite file of online features, keyed like the edge's <c>feature_state</c> (<c>customer_key TEXT PRIMARY
/// KEY</c>, one BLOB per customer): here the model's 320 raw features as little-endian float32 (1,280 bytes). One
/// customer is read per call with a statement prepared once. Not thread-safe: one instance per thread.
/// </summary>
public sealed class OnlineFeatureStore : IDisposable
{
    private readonly SqliteConnection connection;
    private readonly SqliteCommand select;
    private readonly SqliteParameter key;
    private readonly byte[] buffer;

    private OnlineFeatureStore(string path, int features)
    {
        connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        connection.Open();
        select = connection.CreateCommand();
        select.CommandText = "SELECT features FROM online_features WHERE customer_key = $k";
        key = select.Parameters.Add("$k", SqliteType.Text);
        key.Value = "";
        select.Prepare();
        buffer = new byte[features * sizeof(float)];
    }

    /// <summary>The customer key of row <paramref name="index"/>.</summary>
    public static string Key(int index) => $"loyalty:{index:D8}";

    /// <summary>Writes <paramref name="rows"/> (customer i = <see cref="Key"/>(i)) to a new file at <paramref name="path"/>
    /// (WAL, one transaction) and opens it read-only.</summary>
    public static OnlineFeatureStore Create(string path, float[][] rows)
    {
        SQLitePCL.Batteries_V2.Init();
        using (var writer = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString()))
        {
            writer.Open();
            using (var ddl = writer.CreateCommand())
            {
                ddl.CommandText = """
                    PRAGMA journal_mode = WAL;
                    PRAGMA synchronous = NORMAL;
                    CREATE TABLE online_features (customer_key TEXT PRIMARY KEY, features BLOB NOT NULL);
                    """;
                ddl.ExecuteNonQuery();
            }

            using var tx = writer.BeginTransaction();
            using var insert = writer.CreateCommand();
            insert.Transaction = tx;
            insert.CommandText = "INSERT INTO online_features (customer_key, features) VALUES ($k, $f)";
            var k = insert.Parameters.Add("$k", SqliteType.Text);
            var f = insert.Parameters.Add("$f", SqliteType.Blob);
            for (var i = 0; i < rows.Length; i++)
            {
                k.Value = Key(i);
                f.Value = MemoryMarshal.AsBytes(rows[i].AsSpan()).ToArray();
                insert.ExecuteNonQuery();
            }

            tx.Commit();
            using var checkpoint = writer.CreateCommand();
            checkpoint.CommandText = "PRAGMA wal_checkpoint(TRUNCATE)";
            checkpoint.ExecuteNonQuery();
        }

        return new OnlineFeatureStore(path, rows[0].Length);
    }

    /// <summary>Reads customer <paramref name="customerKey"/>'s features into <paramref name="destination"/>.</summary>
    /// <exception cref="InvalidDataException">No such customer, or a blob of the wrong size.</exception>
    public void Read(string customerKey, Span<float> destination)
    {
        key.Value = customerKey;
        using var reader = select.ExecuteReader();
        if (!reader.Read())
        {
            throw new InvalidDataException($"customer {customerKey} not in the online-feature file");
        }

        var n = reader.GetBytes(0, 0, buffer, 0, buffer.Length);
        if (n != buffer.Length || n != destination.Length * sizeof(float))
        {
            throw new InvalidDataException($"customer {customerKey}: {n} feature bytes, expected {destination.Length * sizeof(float)}");
        }

        MemoryMarshal.Cast<byte, float>(buffer).CopyTo(destination);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        select.Dispose();
        connection.Dispose();
    }
}
