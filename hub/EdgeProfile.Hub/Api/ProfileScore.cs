using System.Text.Json.Serialization;

namespace EdgeProfile.Hub.Api;

/// <summary>
/// One task's latest score of the global profile at one store, as the store's serving model computed it and uploaded it
/// (<c>DeltaBatch.scores</c>); the hub computes none itself.
/// </summary>
/// <param name="StoreId">The store whose model produced it.</param>
/// <param name="Task">The model's task (output) name.</param>
/// <param name="Value">The score of a single-output task; null (and absent in JSON) for a multi-output task.</param>
/// <param name="Values">The scores of a multi-output task; null (and absent in JSON) for a single-output task.</param>
/// <param name="Model">The version of the model that produced it.</param>
/// <param name="ScoredAt">When the store scored the customer.</param>
/// <param name="MissingFeatures">How many of the model's features were missing or stale at the store (fed as 0).</param>
/// <param name="Reason">Where the score comes from, in words.</param>
public sealed record ProfileScore(
    string StoreId,
    string Task,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] double? Value,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyList<double>? Values,
    string Model,
    DateTimeOffset ScoredAt,
    int MissingFeatures,
    string Reason)
{
    /// <summary>The store's top reasons for this task's score in English (from the explanation stored with it), or null.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Reasons { get; init; }

    /// <summary>The same reasons in Chinese (zh-CN), or null.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? ReasonsZh { get; init; }
}
