using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace EdgeProfile.Models.Explaining;

/// <summary>
/// The background an explanation's interventional expectations are taken over, shipped inside the model so that every
/// edge and the hub explain a version against the same rows: the trainer writes a seeded sample of its training rows
/// as <see cref="MetadataKey"/>; a model without one (e.g. a federated model, whose trainer never saw a row) is
/// explained against its training mean, which its standardisation carries (baseline Shapley, said as such).
/// </summary>
public static class ExplanationBackground
{
    /// <summary>Model metadata key: <c>{"source": "...", "features": [...], "rows": [[...], ...]}</c>, raw feature values.</summary>
    public const string MetadataKey = "explain_background";

    /// <summary>Rows the trainer ships by default.</summary>
    public const int DefaultRows = 16;

    /// <summary>A seeded sample of <paramref name="count"/> of <paramref name="rows"/> (without replacement), as metadata JSON.</summary>
    public static string Sample(IReadOnlyList<string> features, IReadOnlyList<float[]> rows, int count, int seed, string description)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(rows);
        if (rows.Count == 0)
        {
            throw new ArgumentException("no rows to sample a background from", nameof(rows));
        }

        var order = Enumerable.Range(0, rows.Count).ToArray();
        new Random(seed).Shuffle(order);
        var picked = order.Take(Math.Min(count, rows.Count)).Order().ToArray();
        var json = new JsonObject
        {
            ["source"] = string.Create(CultureInfo.InvariantCulture, $"{picked.Length} {description} rows (seed {seed})"),
            ["features"] = new JsonArray([.. features.Select(f => (JsonNode?)JsonValue.Create(f))]),
            ["rows"] = new JsonArray([.. picked.Select(i => (JsonNode?)new JsonArray([.. rows[i].Select(v => (JsonNode?)JsonValue.Create(double.IsFinite(v) ? v : 0f))]))]),
        };
        return json.ToJsonString();
    }

    /// <summary>
    /// The model's background: its <see cref="MetadataKey"/> rows (the first <paramref name="maxRows"/>), else one row
    /// of its training mean (the standardisation mean mapped back through the input transform).
    /// </summary>
    /// <exception cref="InvalidDataException">The metadata is present but malformed (names the problem).</exception>
    public static Background For(IReadOnlyDictionary<string, string> metadata, ModelWeights weights, int maxRows = DefaultRows)
    {
        ArgumentNullException.ThrowIfNull(metadata);
        ArgumentNullException.ThrowIfNull(weights);
        var features = weights.Spec.Features;
        if (!metadata.TryGetValue(MetadataKey, out var text))
        {
            return TrainingMean(weights);
        }

        try
        {
            var node = JsonNode.Parse(text)?.AsObject() ?? throw new InvalidDataException("not an object");
            var names = node["features"]?.AsArray().Select(n => n?.GetValue<string>() ?? "").ToArray() ?? throw new InvalidDataException("no features");
            if (!names.SequenceEqual(features, StringComparer.Ordinal))
            {
                throw new InvalidDataException("its features are not the model's");
            }

            var rows = node["rows"]?.AsArray() ?? throw new InvalidDataException("no rows");
            int count = Math.Min(rows.Count, Math.Max(1, maxRows));
            var values = new double[count * features.Count];
            for (int r = 0; r < count; r++)
            {
                var row = rows[r]?.AsArray() ?? throw new InvalidDataException($"row {r} is not an array");
                if (row.Count != features.Count)
                {
                    throw new InvalidDataException($"row {r} has {row.Count} values for {features.Count} features");
                }

                for (int i = 0; i < row.Count; i++)
                {
                    values[(r * features.Count) + i] = row[i]?.GetValue<double>() ?? 0;
                }
            }

            string source = node["source"]?.GetValue<string>() ?? "training rows";
            return new Background(values, features.Count, count < rows.Count ? string.Create(CultureInfo.InvariantCulture, $"first {count} of {source}") : source);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException or FormatException or ArgumentException)
        {
            throw new InvalidDataException($"model metadata '{MetadataKey}': {ex.Message}", ex);
        }
        catch (InvalidDataException ex) when (!ex.Message.StartsWith("model metadata", StringComparison.Ordinal))
        {
            throw new InvalidDataException($"model metadata '{MetadataKey}': {ex.Message}", ex);
        }
    }

    /// <summary>One row: the training mean of each feature, mapped back to raw values (log1p features: <c>e^m − 1</c>).</summary>
    public static Background TrainingMean(ModelWeights weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        var row = new double[weights.Spec.Inputs];
        for (int i = 0; i < row.Length; i++)
        {
            double m = weights.Mean[i];
            row[i] = weights.Log1p is { } flags && flags[i] ? Math.Exp(Math.Max(m, 0)) - 1 : m;
        }

        return new Background(row, row.Length, "training mean");
    }
}
