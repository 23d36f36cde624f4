namespace EdgeProfile.Core.Explanations;

/// <summary>Where a reason comes from.</summary>
public enum ReasonKind
{
    /// <summary>A model score's attribution (a Shapley value of a feature group).</summary>
    Attribution,

    /// <summary>A rule that fired.</summary>
    Rule,
}

/// <summary>One fact a reason rests on: a feature value (by definition id, e.g. <c>views_2h@v1</c>) or a named fact.</summary>
/// <param name="Feature">The feature definition id (<c>name@vN</c>), a bare feature name, or the name of a fact.</param>
/// <param name="Value">The number, when there is one.</param>
/// <param name="Display">The value as the reason's text shows it (e.g. <c>45</c>, <c>0.00</c>, <c>12.5%</c>), when there is one.</param>
public sealed record ReasonEvidence(string Feature, double? Value, string? Display);

/// <summary>
/// A business-language reason for a score or a decision, shared by model attributions and rule engines: one sentence
/// in the language asked, with a stable <see cref="Code"/>, how much it weighs, which way it pushes, where it comes
/// from and the facts it cites.
/// </summary>
/// <param name="Kind">Attribution or rule.</param>
/// <param name="Code">A stable id, e.g. <c>churn_90d:recency:+</c> or <c>rule:high_value_mother@v3</c>.</param>
/// <param name="Text">The sentence, in the language asked.</param>
/// <param name="Weight">The Shapley value φ for an attribution; for a rule its weight (1 by default).</param>
/// <param name="Direction">+1 when it raises the score, −1 when it lowers it, 0 when neither.</param>
/// <param name="Source">The model version for an attribution; the rule id and version (<c>high_value_mother@v3</c>) for a rule.</param>
/// <param name="Evidence">The facts cited: features with their values, or a rule's premises.</param>
/// <param name="Group">The feature group of an attribution (e.g. <c>recency</c>); null for a rule.</param>
public sealed record Reason(
    ReasonKind Kind,
    string Code,
    string Text,
    double Weight,
    int Direction,
    string Source,
    IReadOnlyList<ReasonEvidence> Evidence,
    string? Group = null)
{
    /// <summary>
    /// A fired rule as a reason: kind <see cref="ReasonKind.Rule"/>, code <c>rule:{id}@v{version}</c>, source
    /// <c>{id}@v{version}</c>, weight 1, direction +1, its premises as evidence.
    /// </summary>
    public static Reason FromRule(string ruleId, int version, string text, IReadOnlyList<ReasonEvidence> premises)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(ruleId);
        ArgumentException.ThrowIfNullOrWhiteSpace(text);
        ArgumentNullException.ThrowIfNull(premises);
        ArgumentOutOfRangeException.ThrowIfLessThan(version, 1);
        var id = $"{ruleId}@v{version}";
        return new Reason(ReasonKind.Rule, "rule:" + id, text, 1.0, 1, id, premises.ToArray());
    }
}
