using System.Text.Json.Nodes;

namespace EdgeProfile.Edge.Scoring;

/// <summary>
/// A customer's latest scores: the model version that produced them, when, how many of the model's features were
/// missing or stale (fed as 0), and the values as JSON (task → number, or an array for multi-output tasks).
/// </summary>
/// <remarks><see cref="Explanation"/> travels from a scoring pass to its store; scores read back (memory, SQLite) carry
/// none — read it with <see cref="ModelScoring.FindExplanation"/>, since it is large and rarely wanted.</remarks>
public sealed record CustomerScores(string ModelVersion, long ScoredAtMs, int MissingFeatures, string ValuesJson)
{
    /// <summary>Why: the decision's explanation as scored (null when explanations are off or the model cannot be explained).</summary>
    public EdgeProfile.Explanations.DecisionExplanation? Explanation { get; init; }

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
