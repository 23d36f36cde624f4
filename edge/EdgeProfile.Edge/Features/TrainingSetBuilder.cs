using System.Globalization;
using System.Text;
using System.Text.Json;
using EdgeProfile.Core.Customers;
using EdgeProfile.Core.Events;
using EdgeProfile.Core.Features;
using EdgeProfile.Edge.Ingest;
using EdgeProfile.Edge.Log;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;

namespace EdgeProfile.Edge.Features;

/// <summary>A label of a training set, computed only from events strictly after the cutoff.</summary>
public enum LabelKind
{
    /// <summary>1 when the customer purchases within the horizon after the cutoff, else 0.</summary>
    Purchase,

    /// <summary>1 when the customer makes no purchase within the horizon after the cutoff (churn), else 0.</summary>
    NoPurchase,

    /// <summary>Money spent on purchases within the horizon after the cutoff (LTV over the horizon).</summary>
    Spend,
}

/// <summary>One label column: <paramref name="Name"/>, its kind and horizon.</summary>
public sealed record LabelSpec(string Name, LabelKind Kind, TimeSpan Horizon)
{
    /// <summary>The standard labels: purchase in 30 days (repurchase), no purchase in 90 days (churn), spend in 90 days (LTV).</summary>
    public static IReadOnlyList<LabelSpec> Defaults { get; } =
    [
        new("purchase_next_30d", LabelKind.Purchase, TimeSpan.FromDays(30)),
        new("churn_next_90d", LabelKind.NoPurchase, TimeSpan.FromDays(90)),
        new("spend_next_90d", LabelKind.Spend, TimeSpan.FromDays(90)),
    ];
}

/// <summary>What a training-set run produced.</summary>
public sealed record TrainingSetResult(string CsvPath, string ManifestPath, int Rows, int UnknownCustomers, int Features, int CensoredRows, int WithheldRows = 0);

/// <summary>
/// Point-in-time-correct training sets from an edge's local log: for every (customer, cutoff) row, features from
/// the events strictly before the cutoff (half-open windows <c>[cutoff − w, cutoff)</c>, late events excluded as
/// online), labels from events strictly after it. Writes a CSV and a manifest naming every definition version.
/// </summary>
public static class TrainingSetBuilder
{
    /// <summary>Reads <c>customer,cutoff</c> rows (header optional; cutoff RFC 3339 or a date, UTC).</summary>
    public static IReadOnlyList<(string Customer, DateTimeOffset Cutoff)> ReadCutoffs(string path)
    {
        var rows = new List<(string, DateTimeOffset)>();
        var n = 0;
        foreach (var line in File.ReadLines(path))
        {
            n++;
            var t = line.Trim();
            if (t.Length == 0 || t.StartsWith('#'))
            {
                continue;
            }

            var comma = t.LastIndexOf(',');
            if (comma <= 0)
            {
                throw new FormatException($"{path}:{n}: expected 'customer,cutoff'");
            }

            var customer = t[..comma].Trim().Trim('"');
            var when = t[(comma + 1)..].Trim().Trim('"');
            if (!DateTimeOffset.TryParse(when, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var cutoff))
            {
                if (n == 1)
                {
                    continue; // a header
                }

                throw new FormatException($"{path}:{n}: cutoff '{when}' is not a time (use RFC 3339, e.g. 2026-11-01T00:00:00Z)");
            }

            rows.Add((customer, cutoff));
        }

        return rows;
    }

    /// <summary>
    /// Builds the set from the edge data directory <paramref name="dataDir"/> (read-only; the edge may be running).
    /// <paramref name="set"/> defaults to the definitions the edge serves.
    /// </summary>
    public static TrainingSetResult Build(string dataDir, string storeId, IReadOnlyList<(string Customer, DateTimeOffset Cutoff)> rows, IReadOnlyList<LabelSpec> labels, string outDir, FeatureSet? set = null)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(labels);
        var dbPath = Path.Combine(dataDir, "edge.db");
        if (!File.Exists(dbPath))
        {
            throw new FileNotFoundException($"no edge log at {dbPath} (is --data-dir the edge's Edge:DataDir?)", dbPath);
        }

        using var conn = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = dbPath, Mode = SqliteOpenMode.ReadOnly, Pooling = false }.ToString());
        conn.Open();
        set ??= ServedSet(conn);
        if (string.IsNullOrWhiteSpace(storeId))
        {
            using var cmd = conn.CreateCommand();
            cmd.CommandText = "SELECT topic FROM events WHERE topic LIKE 'ep/v1/%' LIMIT 1";
            storeId = cmd.ExecuteScalar() is string topic && topic.Split('/') is { Length: > 2 } parts ? parts[2] : "";
            if (storeId.Length == 0)
            {
                throw new InvalidOperationException("cannot tell the store id from the log; pass --store");
            }
        }

        var options = Options.Create(new EdgeOptions { StoreId = storeId, DataDir = dataDir });
        var decoder = new EventDecoder(options, TimeProvider.System);
        var pseudonymizer = File.Exists(Path.Combine(dataDir, "pseudonym.key"))
            ? new Pseudonymizer(Convert.FromBase64String(File.ReadAllText(Path.Combine(dataDir, "pseudonym.key")).Trim()))
            : null;
        var logEnd = Scalar(conn, "SELECT COALESCE(MAX(occurred_at_ms), 0) FROM events");

        Directory.CreateDirectory(outDir);
        var csvPath = Path.Combine(outDir, "training_set.csv");
        var manifestPath = Path.Combine(outDir, "manifest.json");
        int written = 0, unknown = 0, censored = 0, withheld = 0;
        var cache = new Dictionary<string, List<FeatureInput>>(StringComparer.Ordinal);
        using (var csv = new StreamWriter(csvPath, false, new UTF8Encoding(false)))
        {
            var header = new List<string> { "customer", "cutoff" };
            header.AddRange(set.Definitions.Select(d => d.Id));
            header.AddRange(labels.Select(l => l.Name));
            header.Add("label_observed");
            csv.WriteLine(string.Join(',', header.Select(Quote)));
            foreach (var (customer, cutoff) in rows)
            {
                var primary = Resolve(conn, customer, pseudonymizer);
                if (primary is null)
                {
                    unknown++;
                    continue;
                }

                if (TrainingWithdrawn(conn, primary))
                {
                    // The customer withdrew consent to training (from the hub's global view): no row.
                    withheld++;
                    continue;
                }

                if (!cache.TryGetValue(primary, out var events))
                {
                    events = LoadEvents(conn, decoder, primary);
                    cache[primary] = events;
                }

                var cutoffMs = cutoff.ToUnixTimeMilliseconds();
                var readings = PointInTime.Compute(set, events, cutoffMs);
                var fields = new List<string> { customer, cutoff.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture) };
                fields.AddRange(readings.Select(r => r.Value.ToString()));
                var observed = true;
                foreach (var label in labels)
                {
                    var end = cutoffMs + (long)label.Horizon.TotalMilliseconds;
                    observed &= logEnd >= end;
                    fields.Add(Label(label, events, cutoffMs, end));
                }

                if (!observed)
                {
                    censored++;
                }

                fields.Add(observed ? "1" : "0");
                csv.WriteLine(string.Join(',', fields.Select(Quote)));
                written++;
            }
        }

        var manifest = new
        {
            createdAt = DateTimeOffset.UtcNow,
            source = Path.GetFullPath(dbPath),
            storeId,
            rows = written,
            unknownCustomers = unknown,
            withheldRows = withheld,
            censoredRows = censored,
            logEnd = logEnd > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(logEnd) : (DateTimeOffset?)null,
            featureSetRevision = set.Revision,
            semantics = "features: events with time < cutoff (sliding [cutoff-size, cutoff), tumbling [start, cutoff), session: latest before cutoff, lifetime: all before); labels: events with time > cutoff up to cutoff+horizon; late events excluded as online; label_observed=0 when the log ends before cutoff+horizon",
            definitions = set.Definitions.Select(d => new
            {
                id = d.Id,
                name = d.Name,
                version = d.Version,
                window = d.Window.ToString(),
                aggregation = d.Aggregation.Kind.ToString(),
                field = d.Aggregation.Field.ToString(),
                eventTypes = d.EventTypes.Select(t => t.Name()).ToArray(),
                description = d.Description,
            }),
            labels = labels.Select(l => new { name = l.Name, kind = l.Kind.ToString(), horizon = Durations.Format(l.Horizon) }),
        };
        File.WriteAllText(manifestPath, JsonSerializer.Serialize(manifest, Indented));
        return new TrainingSetResult(csvPath, manifestPath, written, unknown, set.Definitions.Count, censored, withheld);
    }

    /// <summary>The feature set the edge serves (stored by the log writer), else the built-in defaults.</summary>
    public static FeatureSet ServedSet(SqliteConnection conn)
    {
        ArgumentNullException.ThrowIfNull(conn);
        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT value FROM engine_meta WHERE name = 'feature_set'";
        return cmd.ExecuteScalar() is byte[] json ? FeatureSet.Parse(Encoding.UTF8.GetString(json)) : DefaultFeatures.Set;
    }

    internal static string Label(LabelSpec label, List<FeatureInput> events, long cutoffMs, long endMs)
    {
        bool any = false;
        double spend = 0;
        foreach (var e in events)
        {
            if (e.TimestampMs <= cutoffMs || e.TimestampMs > endMs || e.Type != EventType.Purchase)
            {
                continue;
            }

            any = true;
            spend += e.Amount ?? 0;
        }

        return label.Kind switch
        {
            LabelKind.Purchase => any ? "1" : "0",
            LabelKind.NoPurchase => any ? "0" : "1",
            _ => spend.ToString("0.####", CultureInfo.InvariantCulture),
        };
    }

    internal static bool TrainingWithdrawn(SqliteConnection conn, string primary)
    {
        if (EdgeDatabase.Scalar<long>(conn, "SELECT count(*) FROM sqlite_master WHERE name = 'global_keys'") == 0)
        {
            return false;
        }

        var keys = new List<string> { primary };
        using (var cmd = conn.CreateCommand())
        {
            cmd.CommandText = "SELECT key FROM customer_keys WHERE customer_key = $k";
            cmd.Parameters.AddWithValue("$k", primary);
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                keys.Add(r.GetString(0));
            }
        }

        return Uplink.GlobalProfileStore.Find(conn, keys)?.Consent?.Training == true;
    }

    private static string? Resolve(SqliteConnection conn, string customer, Pseudonymizer? pseudonymizer)
    {
        var key = customer;
        if (CustomerKey.TryParse(customer, out var parsed) && pseudonymizer is not null)
        {
            key = pseudonymizer.Canonical(parsed).ToString();
        }

        using var cmd = conn.CreateCommand();
        cmd.CommandText = "SELECT COALESCE((SELECT customer_key FROM customer_keys WHERE key = $k), (SELECT customer_key FROM profiles WHERE customer_key = $k))";
        cmd.Parameters.AddWithValue("$k", key);
        return cmd.ExecuteScalar() as string;
    }

    internal static List<FeatureInput> LoadEvents(SqliteConnection conn, EventDecoder decoder, string customerKey)
    {
        var list = new List<FeatureInput>();
        using var cmd = conn.CreateCommand();
        cmd.CommandText = """
            SELECT e.topic, e.format, e.payload FROM events e
            WHERE e.customer_key = $k AND NOT EXISTS (SELECT 1 FROM late_events l WHERE l.event_id = e.event_id)
            ORDER BY e.occurred_at_ms, e.event_id
            """;
        cmd.Parameters.AddWithValue("$k", customerKey);
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            if (decoder.DecodeStored(r.GetString(0), (PayloadFormat)r.GetInt32(1), (byte[])r.GetValue(2)) is { } e)
            {
                list.Add(FeatureInput.From(e));
            }
        }

        return list;
    }

    private static long Scalar(SqliteConnection conn, string sql)
    {
        using var cmd = conn.CreateCommand();
        cmd.CommandText = sql;
        return Convert.ToInt64(cmd.ExecuteScalar(), CultureInfo.InvariantCulture);
    }

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private static string Quote(string value) =>
        value.AsSpan().IndexOfAny(",\"\n\r") >= 0 ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : value;
}
