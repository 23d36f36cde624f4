using System.Text.Json;
using EdgeProfile.Contracts.V1;

namespace EdgeProfile.Hub.Uplink;

/// <summary>
/// Checks the score entries of a batch (<c>DeltaBatch.scores</c>) one by one: a typed, pseudonymised customer key like a
/// delta's, a model version, a plausible time and a JSON object of task → finite number (or array of them), within
/// size limits. An invalid entry is dropped with its reason and never fails the batch's deltas. Of several entries for
/// one customer, the newest is kept.
/// </summary>
internal static class ScoreValidator
{
    public const int MaxScoresPerBatch = 10_000;
    private const int MaxVersionLength = 64;
    private const int MaxJsonLength = 16 * 1024;

    /// <summary>Largest explanation accepted (attributions for every output, reasons in two languages).</summary>
    private const int MaxExplanationLength = 256 * 1024;
    private const int MaxTasks = 64;
    private const int MaxTaskLength = 64;
    private const int MaxValuesPerTask = 256;

    // A score from further ahead than this would shadow every later score of the customer (newest wins).
    private static readonly TimeSpan MaxFuture = TimeSpan.FromDays(1);

    /// <param name="batch">The uploaded batch.</param>
    /// <param name="nowUnixMs">The hub's clock.</param>
    /// <param name="refused">Why entries were dropped (index and reason).</param>
    /// <param name="dropped">How many entries were dropped as invalid.</param>
    /// <returns>The valid entries, at most one per customer key.</returns>
    public static List<CustomerScores> Validate(DeltaBatch batch, long nowUnixMs, List<string> refused, out int dropped)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentNullException.ThrowIfNull(refused);
        dropped = 0;
        var valid = new Dictionary<string, CustomerScores>(StringComparer.Ordinal);
        var latest = nowUnixMs + (long)MaxFuture.TotalMilliseconds;
        for (var i = 0; i < batch.Scores.Count; i++)
        {
            var s = batch.Scores[i];
            if (i >= MaxScoresPerBatch)
            {
                refused.Add($"scores {i}..{batch.Scores.Count - 1}: a batch holds at most {MaxScoresPerBatch} score entries");
                dropped += batch.Scores.Count - i;
                break;
            }

            if (Check(s, latest) is { } error)
            {
                refused.Add($"score {i}: {error}");
                dropped++;
                continue;
            }

            if (!valid.TryGetValue(s.CustomerKey, out var seen) || s.ScoredAtUnixMs >= seen.ScoredAtUnixMs)
            {
                valid[s.CustomerKey] = s;
            }
        }

        return [.. valid.Values];
    }

    private static string? Check(CustomerScores s, long latestUnixMs)
    {
        if (DeltaValidator.CheckKey(s.CustomerKey) is { } keyError)
        {
            return $"customer_key {keyError}";
        }

        if (s.ModelVersion.Length is 0 or > MaxVersionLength)
        {
            return $"model_version must have 1-{MaxVersionLength} characters";
        }

        if (s.ScoredAtUnixMs <= 0 || s.ScoredAtUnixMs > latestUnixMs)
        {
            return $"scored_at_unix_ms {s.ScoredAtUnixMs} is not a time up to {MaxFuture.TotalHours:0} h ahead of the hub's clock";
        }

        if (s.MissingFeatures < 0)
        {
            return "missing_features must be >= 0";
        }

        if (s.ScoresJson.Length is 0 or > MaxJsonLength)
        {
            return $"scores_json must have 1-{MaxJsonLength} characters";
        }

        try
        {
            using var doc = JsonDocument.Parse(s.ScoresJson, new JsonDocumentOptions { MaxDepth = 3 });
            if (CheckValues(doc.RootElement) is { } problem)
            {
                return problem;
            }
        }
        catch (JsonException ex)
        {
            return $"scores_json is not JSON: {ex.Message}";
        }

        return CheckExplanation(s);
    }

    /// <summary>An explanation is optional; when present it must be a readable explanation of this very decision.</summary>
    private static string? CheckExplanation(CustomerScores s)
    {
        if (s.ExplanationJson.Length == 0)
        {
            return null;
        }

        if (s.ExplanationJson.Length > MaxExplanationLength)
        {
            return $"explanation_json must have at most {MaxExplanationLength} characters";
        }

        try
        {
            var explanation = EdgeProfile.Explanations.DecisionExplanation.Parse(s.ExplanationJson);
            if (!string.Equals(explanation.Model, s.ModelVersion, StringComparison.Ordinal))
            {
                return $"explanation_json explains model {explanation.Model}, the scores come from {s.ModelVersion}";
            }

            if (explanation.Inputs.Length != explanation.Features.Count || explanation.Outputs.Any(o => o.Phi.Length != explanation.Groups.Count))
            {
                return "explanation_json: inputs, features, groups and attributions disagree in length";
            }

            return null;
        }
        catch (Exception ex) when (ex is JsonException or NotSupportedException or InvalidOperationException)
        {
            return $"explanation_json is not an explanation: {ex.Message}";
        }
    }

    private static string? CheckValues(JsonElement root)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            return "scores_json must be a JSON object of task -> number or array of numbers";
        }

        var tasks = 0;
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var task in root.EnumerateObject())
        {
            if (++tasks > MaxTasks)
            {
                return $"scores_json holds at most {MaxTasks} tasks";
            }

            if (task.Name.Length is 0 or > MaxTaskLength || !names.Add(task.Name))
            {
                return $"scores_json: task names must be distinct and have 1-{MaxTaskLength} characters";
            }

            var value = task.Value;
            if (value.ValueKind == JsonValueKind.Number)
            {
                if (!IsFinite(value))
                {
                    return $"scores_json: task '{task.Name}' is not a finite number";
                }

                continue;
            }

            if (value.ValueKind != JsonValueKind.Array || value.GetArrayLength() is 0 or > MaxValuesPerTask)
            {
                return $"scores_json: task '{task.Name}' must be a number or an array of 1-{MaxValuesPerTask} numbers";
            }

            foreach (var item in value.EnumerateArray())
            {
                if (item.ValueKind != JsonValueKind.Number || !IsFinite(item))
                {
                    return $"scores_json: task '{task.Name}' holds something other than a finite number";
                }
            }
        }

        return tasks == 0 ? "scores_json has no task" : null;
    }

    private static bool IsFinite(JsonElement number) => number.TryGetDouble(out var d) && double.IsFinite(d);
}
