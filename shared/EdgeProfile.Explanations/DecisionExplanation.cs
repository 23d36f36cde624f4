using System.Text.Json;
using System.Text.Json.Serialization;
using EdgeProfile.Core.Explanations;

namespace EdgeProfile.Explanations;

/// <summary>
/// Why a model scored a customer as it did, stored with the decision: the model version, the exact input row it saw,
/// the feature groups and the background the attributions are relative to, each output's attributions with their
/// additivity check, and the top reasons in English and Chinese. Everything needed to recompute it later is in here
/// (besides the model file, which the registry keeps), so an audit can reproduce the numbers.
/// </summary>
public sealed record DecisionExplanation
{
    /// <summary>Format of this record (1).</summary>
    public int Format { get; init; } = 1;

    /// <summary>Model version that made the decision.</summary>
    public required string Model { get; init; }

    /// <summary><c>exact_shapley</c> or <c>kernel_shap</c>.</summary>
    public required string Method { get; init; }

    /// <summary>What function was attributed (e.g. the int8 weights dequantised with exact float activations).</summary>
    public required string Function { get; init; }

    /// <summary>The background the interventional expectations were taken over (source and rows).</summary>
    public required string Background { get; init; }

    /// <summary>The model's features, in input order.</summary>
    public required IReadOnlyList<string> Features { get; init; }

    /// <summary>The input row as the model was fed it (missing or stale features as 0).</summary>
    public required double[] Inputs { get; init; }

    /// <summary>The groups attributions are per (Shapley players), in order.</summary>
    public required IReadOnlyList<ExplainedGroup> Groups { get; init; }

    /// <summary>One entry per explained output.</summary>
    public required IReadOnlyList<ExplainedOutput> Outputs { get; init; }

    /// <summary>The largest additivity error over the outputs.</summary>
    public double AdditivityError => Outputs.Count == 0 ? 0 : Outputs.Max(o => o.AdditivityError);

    /// <summary>The output for <paramref name="task"/>: its exact name, or the only task starting with it
    /// (<c>churn</c> → <c>churn_90d</c>); for a multi-label task the label given, else its top-scoring label's.</summary>
    public IReadOnlyList<ExplainedOutput> For(string? task, string? label = null)
    {
        if (string.IsNullOrEmpty(task))
        {
            return Outputs;
        }

        var names = Outputs.Select(o => o.Task).Distinct(StringComparer.Ordinal).ToList();
        var name = names.FirstOrDefault(n => string.Equals(n, task, StringComparison.OrdinalIgnoreCase));
        if (name is null)
        {
            var prefixed = names.Where(n => n.StartsWith(task, StringComparison.OrdinalIgnoreCase)).ToList();
            name = prefixed.Count == 1 ? prefixed[0] : null;
        }

        if (name is null)
        {
            return [];
        }

        var outputs = Outputs.Where(o => string.Equals(o.Task, name, StringComparison.Ordinal)).ToList();
        if (label is not null)
        {
            return [.. outputs.Where(o => string.Equals(o.Label, label, StringComparison.OrdinalIgnoreCase))];
        }

        return outputs;
    }

    /// <summary>The same numbers without the reasons' text (what the decision history keeps; the text is rewritten
    /// from the numbers on request).</summary>
    public DecisionExplanation WithoutReasons() =>
        this with { Outputs = [.. Outputs.Select(o => o with { ReasonsEn = null, ReasonsZh = null })] };

    /// <summary>Serialised as stored (camelCase JSON; doubles round-trip exactly).</summary>
    public string ToJson() => JsonSerializer.Serialize(this, Json);

    /// <summary>Reads a stored explanation.</summary>
    /// <exception cref="JsonException">Not a stored explanation.</exception>
    public static DecisionExplanation Parse(string json) =>
        JsonSerializer.Deserialize<DecisionExplanation>(json, Json) ?? throw new JsonException("explanation: null");

    /// <summary>Largest absolute difference between this explanation's numbers and <paramref name="other"/>'s (φ, base
    /// values, outputs), or +∞ when their shapes differ.</summary>
    public double Difference(DecisionExplanation other)
    {
        ArgumentNullException.ThrowIfNull(other);
        if (other.Outputs.Count != Outputs.Count || !other.Groups.Select(g => g.Name).SequenceEqual(Groups.Select(g => g.Name), StringComparer.Ordinal))
        {
            return double.PositiveInfinity;
        }

        double max = 0;
        for (int o = 0; o < Outputs.Count; o++)
        {
            var a = Outputs[o];
            var b = other.Outputs[o];
            if (a.Phi.Length != b.Phi.Length || !string.Equals(a.Task, b.Task, StringComparison.Ordinal))
            {
                return double.PositiveInfinity;
            }

            max = Math.Max(max, Math.Abs(a.Base - b.Base));
            max = Math.Max(max, Math.Abs(a.Output - b.Output));
            for (int g = 0; g < a.Phi.Length; g++)
            {
                max = Math.Max(max, Math.Abs(a.Phi[g] - b.Phi[g]));
            }
        }

        return max;
    }

    /// <summary>Serializer options of the stored form.</summary>
    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };
}

/// <summary>A feature group (one Shapley player) and its features.</summary>
public sealed record ExplainedGroup(string Name, IReadOnlyList<string> Features);

/// <summary>
/// One output's explanation: <c>Base + Σ Phi = Output</c> up to <see cref="AdditivityError"/>; <see cref="Served"/> is the
/// score the served model gave, which differs from <see cref="Output"/> by the int8 activation rounding.
/// </summary>
public sealed record ExplainedOutput
{
    /// <summary>Task name.</summary>
    public required string Task { get; init; }

    /// <summary>Label, for a multi-label task's output.</summary>
    public string? Label { get; init; }

    /// <summary>The score the served model gave (null when not known).</summary>
    public double? Served { get; init; }

    /// <summary>The explained function's value at the row.</summary>
    public required double Output { get; init; }

    /// <summary>The expected value over the background.</summary>
    public required double Base { get; init; }

    /// <summary>Attribution per group, in <see cref="DecisionExplanation.Groups"/> order.</summary>
    public required double[] Phi { get; init; }

    /// <summary><c>|Base + Σ Phi − Output|</c>.</summary>
    public required double AdditivityError { get; init; }

    /// <summary>KernelSHAP's estimated standard error per group; null for exact values.</summary>
    public double[]? StandardErrors { get; init; }

    /// <summary>LIME only: the surrogate's weighted R² on its samples.</summary>
    public double? SurrogateFit { get; init; }

    /// <summary>Top reasons in English (null when not written for this output, e.g. a multi-label task's other labels).</summary>
    public IReadOnlyList<Reason>? ReasonsEn { get; init; }

    /// <summary>Top reasons in Chinese (zh-CN).</summary>
    public IReadOnlyList<Reason>? ReasonsZh { get; init; }

    /// <summary>The reasons in <paramref name="language"/>.</summary>
    public IReadOnlyList<Reason> Reasons(ReasonLanguage language) => (language == ReasonLanguage.ZhCn ? ReasonsZh : ReasonsEn) ?? [];
}
