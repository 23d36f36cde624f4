using System.Globalization;
using System.Text.Json;
using EdgeProfile.Core.Features;
using EdgeProfile.Edge.Features;
using EdgeProfile.Edge.Ingest;
using EdgeProfile.Edge.Log;
using EdgeProfile.Models.Serving;

namespace EdgeProfile.Edge.Scoring;

/// <summary>
/// Labelled rows from this store's own log, for the canary's AUC comparison: the most recently active customers as of
/// a cutoff far enough back that every label's horizon has passed, their features point-in-time at the cutoff (as
/// training sets compute them: half-open windows, late events excluded) and their labels from the events after it.
/// Built once per deploy, before the model host's lock; rows for any feature order come from the same customers, so
/// the candidate's and the serving model's AUCs are measured on the same people.
/// </summary>
public sealed class LocalHoldout
{
    private readonly FeatureSet _set;
    private readonly List<IReadOnlyList<FeatureReading>> _readings;

    private LocalHoldout(FeatureSet set, List<IReadOnlyList<FeatureReading>> readings, Dictionary<string, bool[]> labels, DateTimeOffset cutoff)
    {
        _set = set;
        _readings = readings;
        Labels = labels;
        Cutoff = cutoff;
    }

    /// <summary>Labels per binary task, one per row; each holds both classes.</summary>
    public IReadOnlyDictionary<string, bool[]> Labels { get; }

    /// <summary>Number of rows.</summary>
    public int Rows => _readings.Count;

    /// <summary>The cutoff the rows are computed at.</summary>
    public DateTimeOffset Cutoff { get; }

    /// <summary>
    /// The binary tasks of a model whose labels this edge can compute, by task name: from the trainer's <c>labels</c>
    /// metadata (<c>[{"task","label"}]</c>, the label a training-set column), else by the standard task names.
    /// </summary>
    public static Dictionary<string, LabelSpec> TaskLabels(ModelArtifact model)
    {
        ArgumentNullException.ThrowIfNull(model);
        var byName = LabelSpec.Defaults.Where(l => l.Kind is LabelKind.Purchase or LabelKind.NoPurchase).ToDictionary(l => l.Name, StringComparer.Ordinal);
        var named = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["repurchase_30d"] = "purchase_next_30d",
            ["churn_90d"] = "churn_next_90d",
        };
        if (model.Metadata.TryGetValue("labels", out var json))
        {
            try
            {
                foreach (var entry in JsonDocument.Parse(json).RootElement.EnumerateArray())
                {
                    if (entry.TryGetProperty("task", out var task) && entry.TryGetProperty("label", out var label)
                        && task.GetString() is { } t && label.GetString() is { } l)
                    {
                        named[t] = l;
                    }
                }
            }
            catch (Exception ex) when (ex is JsonException or InvalidOperationException)
            {
                // Not the trainer's format: the standard names still apply.
            }
        }

        var tasks = new Dictionary<string, LabelSpec>(StringComparer.Ordinal);
        foreach (var output in model.Outputs.Where(o => o.Width == 1))
        {
            if (named.TryGetValue(output.Name, out var label) && byName.TryGetValue(label, out var spec))
            {
                tasks[output.Name] = spec;
            }
        }

        return tasks;
    }

    /// <summary>
    /// Builds the holdout, or returns null with the reason: no binary task with a computable label, a log too short for
    /// the longest horizon, fewer than <paramref name="minRows"/> customers, or a label without both classes (that task
    /// is left out; null only when none is left).
    /// </summary>
    public static LocalHoldout? Build(EdgeDatabase db, EventDecoder decoder, FeatureSet set, IReadOnlyDictionary<string, LabelSpec> tasks, int maxRows, int minRows, out string reason)
    {
        ArgumentNullException.ThrowIfNull(db);
        ArgumentNullException.ThrowIfNull(decoder);
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(tasks);
        if (tasks.Count == 0)
        {
            reason = "the model has no binary task whose label this edge computes";
            return null;
        }

        using var connection = db.OpenRead();
        var first = EdgeDatabase.Scalar<long>(connection, "SELECT COALESCE(MIN(occurred_at_ms), 0) FROM events");
        var last = EdgeDatabase.Scalar<long>(connection, "SELECT COALESCE(MAX(occurred_at_ms), 0) FROM events");
        var horizon = (long)tasks.Values.Max(l => l.Horizon.TotalMilliseconds);
        var cutoff = last - horizon;
        if (last == 0 || cutoff <= first)
        {
            reason = string.Create(CultureInfo.InvariantCulture,
                $"the log covers {(last - first) / 86_400_000.0:0.#} days, less than the {horizon / 86_400_000} days the labels need after a cutoff");
            return null;
        }

        var customers = new List<string>();
        using (var command = connection.CreateCommand())
        {
            command.CommandText = """
                SELECT customer_key FROM events WHERE occurred_at_ms < $cutoff AND customer_key IS NOT NULL
                GROUP BY customer_key ORDER BY MAX(occurred_at_ms) DESC LIMIT $n
                """;
            command.Parameters.AddWithValue("$cutoff", cutoff);
            command.Parameters.AddWithValue("$n", maxRows);
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                customers.Add(reader.GetString(0));
            }
        }

        if (customers.Count < minRows)
        {
            reason = $"{customers.Count} customers were active before the cutoff, fewer than the {minRows} a holdout needs";
            return null;
        }

        var readings = new List<IReadOnlyList<FeatureReading>>(customers.Count);
        var labels = tasks.ToDictionary(t => t.Key, _ => new bool[customers.Count], StringComparer.Ordinal);
        for (var i = 0; i < customers.Count; i++)
        {
            var events = TrainingSetBuilder.LoadEvents(connection, decoder, customers[i]);
            readings.Add(PointInTime.Compute(set, events, cutoff));
            foreach (var (task, spec) in tasks)
            {
                labels[task][i] = TrainingSetBuilder.Label(spec, events, cutoff, cutoff + (long)spec.Horizon.TotalMilliseconds) == "1";
            }
        }

        var oneClass = labels.Where(kv => !kv.Value.Contains(true) || !kv.Value.Contains(false)).Select(kv => kv.Key).ToList();
        foreach (var task in oneClass)
        {
            labels.Remove(task);
        }

        if (labels.Count == 0)
        {
            reason = $"every label has one class only among the {customers.Count} customers ({string.Join(", ", oneClass)})";
            return null;
        }

        reason = "";
        return new LocalHoldout(set, readings, labels, DateTimeOffset.FromUnixTimeMilliseconds(cutoff));
    }

    /// <summary>The rows in <paramref name="features"/> order (a feature this edge does not compute is 0, as online).</summary>
    public CanaryHoldout For(IReadOnlyList<string> features)
    {
        ArgumentNullException.ThrowIfNull(features);
        var index = new int[features.Count];
        for (var f = 0; f < features.Count; f++)
        {
            index[f] = -1;
            for (var d = 0; d < _set.Definitions.Count; d++)
            {
                if (string.Equals(_set.Definitions[d].Name, features[f], StringComparison.Ordinal))
                {
                    index[f] = d;
                    break;
                }
            }
        }

        var rows = new float[_readings.Count * features.Count];
        for (var r = 0; r < _readings.Count; r++)
        {
            for (var f = 0; f < features.Count; f++)
            {
                rows[(r * features.Count) + f] = index[f] >= 0 && _readings[r][index[f]].Value.Number is { } v && double.IsFinite(v) ? (float)v : 0f;
            }
        }

        return new CanaryHoldout(rows, Labels);
    }
}
