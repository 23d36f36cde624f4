using System.Text.Json.Nodes;

namespace EdgeProfile.Edge.Scoring;

/// <summary>
/// A customer's latest scores: the model version that produced them, when, how many of the model's features were
/// missing or stale (fed as 0), and the values as JSON (task → number, or an array for multi-output tasks).
/// </summary>
/// <remarks><see cref="Inputs"/> travels from a scoring pass to its store; scores read back (memory, SQLite) carry none.
/// The explanation is computed after the score is stored (<see cref="ModelScoring.ExplainPending"/>).</remarks>
public sealed record CustomerScores(string ModelVersion, long ScoredAtMs, int MissingFeatures, string ValuesJson)
{
    /// <summary>The row the model was fed (its features in the model's order, missing or stale ones as 0): what the
    /// decision's explanation is computed from, now or in an audit later. Null on scores read back.</summary>
    public float[]? Inputs { get; init; }

    /// <summary>
    /// The <c>scores</c> array of <c>GET /api/profiles/{key}</c> (contracts.md §3: scores with the model version): one
    /// entry per task, <c>{ task, value, model, scoredAt, missingFeatures }</c>, with <c>values</c> (an array) instead
    /// of <c>value</c> for multi-output tasks, in the model's task order.
    /// </summary>
    public JsonArray ToJson()
    {
        var entries = new JsonArray();
        if (JsonNode.Parse(ValuesJson) is not JsonObject values)
        {
            return entries;
        }

        foreach (var (task, value) in values)
        {
            var entry = new JsonObject { ["task"] = task };
            entry[value is JsonArray ? "values" : "value"] = value?.DeepClone();
            entry["model"] = ModelVersion;
            entry["scoredAt"] = DateTimeOffset.FromUnixTimeMilliseconds(ScoredAtMs);
            entry["missingFeatures"] = MissingFeatures;
            entries.Add(entry);
        }

        return entries;
    }
}

/// <summary>
/// A stored decision: when, by which model, its scores (JSON), the row it was computed from (null for scores written
/// before rows were kept) and its stored explanation (null until explained).
/// </summary>
public sealed record StoredDecision(long ScoredAtMs, string ModelVersion, string ScoresJson, float[]? Inputs, EdgeProfile.Explanations.DecisionExplanation? Explanation);
