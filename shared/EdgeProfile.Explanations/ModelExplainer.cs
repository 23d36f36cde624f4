using System.Globalization;
using EdgeProfile.Core.Explanations;
using EdgeProfile.Core.Features;
using EdgeProfile.Models;
using EdgeProfile.Models.Explaining;
using EdgeProfile.Models.Onnx;
using EdgeProfile.Models.Scoring;

namespace EdgeProfile.Explanations;

/// <summary>
/// Explains one model version's decisions. Built once per version from the model file: our own MMoE files are read
/// back into their weights (int8 weights dequantised) and explained through <see cref="MmoeFunction"/>, whose exact
/// Shapley path costs one pass over the network per coalition; any other ONNX model is explained as a black box, one
/// ONNX Runtime call per row. Attributions are per feature group (<see cref="FeatureGrouping"/>): exact Shapley
/// values up to <see cref="ExplainerOptions.MaxExactGroups"/> groups, KernelSHAP beyond; the background is the one
/// the model ships (<see cref="ExplanationBackground"/>). Deterministic: the same row gives the same numbers.
/// </summary>
/// <remarks>Not thread-safe (the function keeps buffers): callers serialise, or build one per thread.</remarks>
public sealed class ModelExplainer : IDisposable
{
    private readonly IExplainedFunction function;
    private readonly OnnxScorer? blackBox;
    private readonly FeatureGroups groups;
    private readonly (string Task, string? Label, TaskKind Kind, int Index)[] outputs;
    private readonly IReadOnlyList<FeatureDefinition> definitions;
    private readonly ExplainerOptions options;
    private readonly Dictionary<string, double> baseline;

    private ModelExplainer(string version, IExplainedFunction function, OnnxScorer? blackBox, string description, Background background,
        FeatureGroups groups, (string, string?, TaskKind, int)[] outputs, IReadOnlyList<string> features, IReadOnlyList<FeatureDefinition> definitions, ExplainerOptions options)
    {
        Version = version;
        this.function = function;
        this.blackBox = blackBox;
        FunctionDescription = description;
        Background = background;
        this.groups = groups;
        this.outputs = outputs;
        Features = features;
        this.definitions = definitions;
        this.options = options;
        baseline = new Dictionary<string, double>(StringComparer.Ordinal);
        for (int i = 0; i < features.Count; i++)
        {
            double mean = 0;
            for (int k = 0; k < background.Count; k++)
            {
                mean += background.Weights[k] * background.Row(k)[i];
            }

            baseline[features[i]] = mean;
        }
    }

    /// <summary>The model version explained.</summary>
    public string Version { get; }

    /// <summary>The model's features in input order.</summary>
    public IReadOnlyList<string> Features { get; }

    /// <summary>What is attributed, in words.</summary>
    public string FunctionDescription { get; }

    /// <summary>The background the expectations are over.</summary>
    public Background Background { get; }

    /// <summary>The groups (Shapley players).</summary>
    public FeatureGroups Groups => groups;

    /// <summary>The attribution method used for this model's decisions.</summary>
    public AttributionMethod Method => groups.Count <= Math.Min(options.MaxExactGroups, ExactShapley.MaxGroups) ? AttributionMethod.ExactShapley : AttributionMethod.KernelShap;

    /// <summary>
    /// Builds the explainer of a model file. <paramref name="definitions"/> give feature groups and the wording of
    /// reasons (features they do not define are a group of their own, phrased by name).
    /// </summary>
    /// <exception cref="InvalidDataException">The file cannot be explained (names the problem).</exception>
    public static ModelExplainer Create(byte[] model, string version, IReadOnlyList<FeatureDefinition> definitions, ExplainerOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(definitions);
        options ??= new ExplainerOptions();
        var set = new FeatureSet { Revision = 0, Definitions = [.. definitions] };
        if (OnnxWeightsReader.TryRead(model, out var weights, out var problem) && weights is not null)
        {
            // The weights were read from the file already: its metadata too, without a second ONNX Runtime session.
            var metadata = OnnxWeightsReader.Metadata(model);
            bool quantized = OnnxWeightsReader.IsQuantized(model);
            var spec = weights.Spec;
            var outs = new List<(string, string?, TaskKind, int)>();
            int index = 0;
            foreach (var task in spec.Tasks)
            {
                for (int j = 0; j < task.Outputs; j++)
                {
                    outs.Add((task.Name, task.Kind == TaskKind.MultiLabel ? task.Labels![j] : null, task.Kind, index++));
                }
            }

            return new ModelExplainer(version, new MmoeFunction(weights), null,
                quantized ? "the model's int8 weights dequantised, with exact float activations (the served score also rounds activations to 8 bits at run time)" : "the model's fp32 weights",
                ExplanationBackground.For(metadata, weights, options.BackgroundRows), GroupsOf(spec.Features, set, options), [.. outs], spec.Features, definitions, options);
        }

        // Not one of ours: a black box, one ONNX Runtime call per row (exactly the served function).
        OnnxScorer scorer;
        try
        {
            scorer = OnnxScorer.Load(model, source: $"model {version}");
        }
        catch (InvalidDataException ex)
        {
            throw new InvalidDataException($"model {version} cannot be explained: {ex.Message}", ex);
        }

        if (scorer.Features is not { } features)
        {
            scorer.Dispose();
            throw new InvalidDataException($"model {version} cannot be explained: it lists no features ({problem})");
        }

        var list = new List<(string, string?, TaskKind, int)>();
        int at = 0;
        foreach (var o in scorer.Outputs)
        {
            for (int j = 0; j < o.Width; j++)
            {
                list.Add((o.Name, o.Width == 1 ? null : $"#{j}", o.Width == 1 ? TaskKind.Binary : TaskKind.MultiLabel, at++));
            }
        }

        int width = scorer.OutputWidth;
        var f = new DelegateFunction(scorer.Inputs, width, (rows, outs) =>
        {
            var row = new float[scorer.Inputs];
            var result = new float[width];
            for (int r = 0; r < outs.Length / width; r++)
            {
                for (int i = 0; i < row.Length; i++)
                {
                    row[i] = (float)rows[(r * row.Length) + i];
                }

                scorer.Score(row, result);
                for (int j = 0; j < width; j++)
                {
                    outs[(r * width) + j] = result[j];
                }
            }
        });
        var zero = new Background(new double[features.Count], features.Count, "all-zero row (the model ships no background)");
        return new ModelExplainer(version, f, scorer, "the served model, one ONNX Runtime call per row", zero, GroupsOf(features, set, options), [.. list], features, definitions, options);
    }

    /// <summary>
    /// Explains one decision: the row the model was fed (in <see cref="Features"/> order) and, when known, the served
    /// outputs (flattened task by task). Reasons are written for every binary and regression output and for the
    /// top-scoring label of each multi-label task.
    /// </summary>
    public DecisionExplanation Explain(ReadOnlySpan<float> row, ReadOnlySpan<float> served = default)
    {
        if (row.Length != Features.Count)
        {
            throw new ArgumentException($"model {Version} takes {Features.Count} features, got {row.Length}", nameof(row));
        }

        var x = new double[row.Length];
        for (int i = 0; i < x.Length; i++)
        {
            x[i] = row[i];
        }

        return Explain(x, served.IsEmpty ? null : served.ToArray());
    }

    /// <summary>As <see cref="Explain(ReadOnlySpan{float}, ReadOnlySpan{float})"/> on a stored row (an audit's recomputation).</summary>
    public DecisionExplanation Explain(double[] x, float[]? served) => Explain(x, served, Method);

    /// <summary>
    /// As <see cref="Explain(double[], float[])"/> with another method: <see cref="AttributionMethod.Lime"/> gives the
    /// local surrogate's coefficients as a second opinion (not Shapley values; its fit is in
    /// <see cref="ExplainedOutput.SurrogateFit"/>), <see cref="AttributionMethod.KernelShap"/> the estimate with its
    /// errors; <see cref="AttributionMethod.ExactShapley"/> needs at most 16 groups.
    /// </summary>
    public DecisionExplanation Explain(double[] x, float[]? served, AttributionMethod method)
    {
        ArgumentNullException.ThrowIfNull(x);
        var attributions = method switch
        {
            AttributionMethod.ExactShapley => ExactShapley.Explain(function, x, Background, groups),
            AttributionMethod.KernelShap => KernelShap.Explain(function, x, Background, groups, new KernelShapOptions { Seed = 0 }),
            _ => Lime.Explain(function, x, Background, groups, new LimeOptions { Seed = 0 }),
        };
        var values = new Dictionary<string, double>(StringComparer.Ordinal);
        for (int i = 0; i < Features.Count; i++)
        {
            values[Features[i]] = x[i];
        }

        // Reasons for each single-output task, and for the top label of a multi-label one.
        var reasoned = new HashSet<int>();
        foreach (var byTask in outputs.GroupBy(o => o.Task, StringComparer.Ordinal))
        {
            reasoned.Add(byTask.Count() == 1 ? byTask.First().Index : byTask.MaxBy(o => attributions[o.Index].Output).Index);
        }

        var explained = new List<ExplainedOutput>(outputs.Length);
        foreach (var (task, label, _, index) in outputs)
        {
            var a = attributions[index];
            double? score = served is { } s && index < s.Length ? s[index] : null;
            IReadOnlyList<Reason>? en = null, zh = null;
            if (reasoned.Contains(index))
            {
                var contributions = groups.Names.Select((name, g) => new GroupContribution(name, a.Values[g], [.. groups.Members[g].Select(i => Features[i])])).ToList();
                var request = new ReasonRequest(task, label, score ?? a.Output, Version, contributions, values, baseline, definitions, options.TopReasons);
                en = ReasonWriter.Write(request, ReasonLanguage.En);
                zh = ReasonWriter.Write(request, ReasonLanguage.ZhCn);
            }

            explained.Add(new ExplainedOutput
            {
                Task = task,
                Label = label,
                Served = score,
                Output = a.Output,
                Base = a.BaseValue,
                Phi = a.Values,
                AdditivityError = a.AdditivityError,
                StandardErrors = a.StandardErrors,
                SurrogateFit = a.SurrogateFit,
                ReasonsEn = en,
                ReasonsZh = zh,
            });
        }

        return new DecisionExplanation
        {
            Model = Version,
            Method = MethodName(method),
            Function = FunctionDescription,
            Background = string.Create(CultureInfo.InvariantCulture, $"interventional expectation over {Background.Source} ({Background.Count} rows)"),
            Features = Features,
            Inputs = x,
            Groups = [.. groups.Names.Select((name, g) => new ExplainedGroup(name, [.. groups.Members[g].Select(i => Features[i])]))],
            Outputs = explained,
        };
    }

    /// <summary>The wire name of a method: <c>exact_shapley</c>, <c>kernel_shap</c>, <c>lime</c>.</summary>
    public static string MethodName(AttributionMethod method) => method switch
    {
        AttributionMethod.ExactShapley => "exact_shapley",
        AttributionMethod.KernelShap => "kernel_shap",
        _ => "lime",
    };

    /// <summary>The method named <paramref name="name"/> (as <see cref="MethodName"/> writes it), or null.</summary>
    public static AttributionMethod? ParseMethod(string? name) => name switch
    {
        "exact_shapley" or "exact" => AttributionMethod.ExactShapley,
        "kernel_shap" or "kernelshap" => AttributionMethod.KernelShap,
        "lime" => AttributionMethod.Lime,
        _ => null,
    };

    /// <summary>
    /// Global importance per output: mean |φ| per group over <paramref name="rows"/> (row-major, model order), or over
    /// the background rows when none are given.
    /// </summary>
    public double[][] Importance(double[]? rows = null)
    {
        rows ??= Background.Rows;
        var perRow = new List<Attribution[]>();
        for (int r = 0; r < rows.Length / Features.Count; r++)
        {
            var x = rows.AsSpan(r * Features.Count, Features.Count);
            perRow.Add(Method == AttributionMethod.ExactShapley
                ? ExactShapley.Explain(function, x, Background, groups)
                : KernelShap.Explain(function, x, Background, groups, new KernelShapOptions { Seed = 0 }));
        }

        return GlobalImportance.MeanAbsolute(perRow);
    }

    /// <summary>Task and label of each output, in output order.</summary>
    public IReadOnlyList<(string Task, string? Label)> Outputs => [.. outputs.Select(o => (o.Task, o.Label))];

    /// <inheritdoc />
    public void Dispose() => blackBox?.Dispose();

    private static FeatureGroups GroupsOf(IReadOnlyList<string> features, FeatureSet set, ExplainerOptions options)
    {
        var grouped = FeatureGrouping.Group(features, set, options.GroupOverrides);
        return new FeatureGroups(features.Count, [.. grouped.Select(g => g.Group)], [.. grouped.Select(g => g.Members)]);
    }
}
