using System.Globalization;
using EdgeProfile.Knowledge;

namespace EdgeProfile.Training.Distillation;

/// <summary>Where a rule's confidence came from.</summary>
public enum ConfidenceSource
{
    /// <summary>Given by the caller, per rule id.</summary>
    Explicit,

    /// <summary>The rule file's <c>@confidence</c> line (<see cref="FiredTag.Confidence"/>).</summary>
    RuleMetadata,

    /// <summary>
    /// Estimated on the training rows: the Laplace-smoothed precision <c>(positives + 1) / (fired + 2)</c> of the rows
    /// where the rule fired (0.5 for a rule that never fired there).
    /// </summary>
    Empirical,
}

/// <summary>
/// A rule's confidence for one task: <see cref="Confidence"/> is <c>P(label = 1 | rule fired)</c> as the teacher uses
/// it; <see cref="Fired"/> and <see cref="Positives"/> count the labelled training rows where it fired and, of those,
/// the positive ones (0 and 0 when the teacher was not fitted on rows).
/// </summary>
public sealed record RuleConfidence(string RuleId, double Confidence, ConfidenceSource Source, int Fired, int Positives);

/// <summary>
/// One task the rules teach: the tags that teach it, its rules' confidences (those that fired on the training rows or
/// were given), and the probability when none of its rules fires (<see cref="NoRuleProbability"/>, the smoothed base
/// rate <c>(positives + 1) / (rows + 2)</c> of the <see cref="NoRuleRows"/> labelled training rows where none fired).
/// </summary>
public sealed record TeacherTask(
    string Name, IReadOnlySet<string> Tags, IReadOnlyList<RuleConfidence> Rules, double NoRuleProbability, int NoRuleRows, int NoRulePositives);

/// <summary>The tags the rules set on each row of a data set (each with the rule that set it).</summary>
public sealed class RuleFirings
{
    private readonly IReadOnlyList<FiredTag>[] rows;

    internal RuleFirings(IReadOnlyList<FiredTag>[] rows) => this.rows = rows;

    /// <summary>Number of rows.</summary>
    public int Rows => rows.Length;

    /// <summary>The tags set on row <paramref name="row"/>.</summary>
    public IReadOnlyList<FiredTag> this[int row] => rows[row];
}

/// <summary>
/// Operator tag rules as a teacher for binary heads. Each taught task has a set of tag names; on a row, the task's
/// fired rules are the rules that set one of those tags, and the teacher's probability is their noisy-OR
/// <c>p = 1 − Π(1 − c_r)</c> over the distinct fired rules' confidences <c>c_r</c>, or the task's
/// <see cref="TeacherTask.NoRuleProbability"/> when none fired. A rule's confidence is, in order: the caller's value for
/// its id, the rule file's <c>@confidence</c>, or the Laplace-smoothed precision on the training rows
/// (<see cref="ConfidenceSource"/>). Rules read the row's features as <c>feature(C, name, value)</c> facts named by
/// <see cref="FeatureNames"/> (NaN values are left out: a missing feature).
/// </summary>
/// <remarks>
/// The rule engine attributes a tag to the rule of its first derivation, so two rules setting the same tag on a row
/// count once; rules meant to add up by noisy-OR should set distinct tags (both listed for the task). Thread-safe.
/// </remarks>
public sealed class RuleTeacher
{
    private readonly TagRuleSet rules;
    private readonly Dictionary<string, TeacherTask> tasks;
    private readonly IReadOnlyDictionary<string, double> explicitConfidences;
    private readonly Dictionary<string, Dictionary<string, RuleConfidence>> empirical;

    private RuleTeacher(
        TagRuleSet rules,
        IReadOnlyList<string> featureNames,
        IReadOnlyDictionary<string, double> explicitConfidences,
        Dictionary<string, Dictionary<string, RuleConfidence>> empirical,
        IReadOnlyList<TeacherTask> tasks)
    {
        this.rules = rules;
        FeatureNames = featureNames;
        this.explicitConfidences = explicitConfidences;
        this.empirical = empirical;
        Tasks = tasks;
        this.tasks = tasks.ToDictionary(t => t.Name, StringComparer.Ordinal);
    }

    /// <summary>Names of the feature columns, in the order of a row's values.</summary>
    public IReadOnlyList<string> FeatureNames { get; }

    /// <summary>The taught tasks, in the order given.</summary>
    public IReadOnlyList<TeacherTask> Tasks { get; }

    /// <summary>
    /// A teacher fitted on <paramref name="train"/>: rules without an explicit (<paramref name="confidences"/>) or
    /// metadata confidence get their smoothed precision on its labelled rows, and every task its no-rule base rate.
    /// <paramref name="taskNames"/> names <paramref name="train"/>'s label tasks in order; every task of
    /// <paramref name="taskTags"/> (task name → the tags that teach it) must be one of them, with one output.
    /// </summary>
    public static RuleTeacher Fit(
        TagRuleSet rules,
        IReadOnlyList<string> featureNames,
        IReadOnlyDictionary<string, IReadOnlyCollection<string>> taskTags,
        TrainingData train,
        IReadOnlyList<string> taskNames,
        IReadOnlyDictionary<string, double>? confidences = null)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(taskNames);
        CheckArguments(rules, featureNames, taskTags, confidences);
        if (taskNames.Count != train.Labels.Count)
        {
            throw new ArgumentException($"{taskNames.Count} task names for {train.Labels.Count} label tasks", nameof(taskNames));
        }
        if (train.Rows > 0 && train.Width != featureNames.Count)
        {
            throw new ArgumentException($"{featureNames.Count} feature names for {train.Width} columns", nameof(featureNames));
        }

        var explicitConfidences = confidences ?? new Dictionary<string, double>(StringComparer.Ordinal);
        var firings = Fire(rules, featureNames, train.Features);
        var empirical = new Dictionary<string, Dictionary<string, RuleConfidence>>(StringComparer.Ordinal);
        var taught = new List<TeacherTask>();
        foreach (var (name, tags) in taskTags)
        {
            var t = IndexOf(taskNames, name);
            if (train.Labels[t].Any(r => r.Length != 1))
            {
                throw new ArgumentException($"task {name}: a taught task must have one output", nameof(taskTags));
            }

            var tagSet = tags.ToHashSet(StringComparer.Ordinal);
            var fired = new Dictionary<string, int>(StringComparer.Ordinal);
            var positives = new Dictionary<string, int>(StringComparer.Ordinal);
            int noRuleRows = 0, noRulePositives = 0;
            for (var i = 0; i < train.Rows; i++)
            {
                if (!train.IsLabelled(t, i))
                {
                    continue;
                }

                var positive = train.Labels[t][i][0] > 0.5f;
                var ids = FiredRules(firings[i], tagSet);
                if (ids.Count == 0)
                {
                    noRuleRows++;
                    noRulePositives += positive ? 1 : 0;
                }
                foreach (var id in ids)
                {
                    fired[id] = fired.GetValueOrDefault(id) + 1;
                    positives[id] = positives.GetValueOrDefault(id) + (positive ? 1 : 0);
                }
            }

            var estimates = fired.Keys.Order(StringComparer.Ordinal).ToDictionary(
                id => id,
                id => new RuleConfidence(id, Smoothed(positives[id], fired[id]), ConfidenceSource.Empirical, fired[id], positives[id]),
                StringComparer.Ordinal);
            empirical[name] = estimates;
            taught.Add(new TeacherTask(name, tagSet, Listed(rules, estimates, explicitConfidences),
                Smoothed(noRulePositives, noRuleRows), noRuleRows, noRulePositives));
        }

        return new RuleTeacher(rules, featureNames, explicitConfidences, empirical, taught);
    }

    /// <summary>
    /// A teacher without training rows: every rule's confidence is the caller's (<paramref name="confidences"/>, per
    /// rule id), else the rule file's, else 0.5 (the smoothed precision of no rows); every task's no-rule probability is
    /// <paramref name="noRuleProbabilities"/>' value for it, else 0.5.
    /// </summary>
    public static RuleTeacher FromConfidences(
        TagRuleSet rules,
        IReadOnlyList<string> featureNames,
        IReadOnlyDictionary<string, IReadOnlyCollection<string>> taskTags,
        IReadOnlyDictionary<string, double> confidences,
        IReadOnlyDictionary<string, double>? noRuleProbabilities = null)
    {
        ArgumentNullException.ThrowIfNull(confidences);
        CheckArguments(rules, featureNames, taskTags, confidences);
        if (noRuleProbabilities?.Values.Any(p => p is < 0 or > 1 || double.IsNaN(p)) == true)
        {
            throw new ArgumentOutOfRangeException(nameof(noRuleProbabilities), "no-rule probabilities must be in [0, 1]");
        }

        var empty = new Dictionary<string, Dictionary<string, RuleConfidence>>(StringComparer.Ordinal);
        var taught = taskTags.Select(kv =>
        {
            empty[kv.Key] = new Dictionary<string, RuleConfidence>(StringComparer.Ordinal);
            var listed = confidences.Keys.Order(StringComparer.Ordinal)
                .Select(id => new RuleConfidence(id, confidences[id], ConfidenceSource.Explicit, 0, 0)).ToArray();
            return new TeacherTask(kv.Key, kv.Value.ToHashSet(StringComparer.Ordinal), listed,
                noRuleProbabilities?.GetValueOrDefault(kv.Key, 0.5) ?? 0.5, 0, 0);
        }).ToArray();
        return new RuleTeacher(rules, featureNames, confidences, empty, taught);
    }

    /// <summary>The task named <paramref name="name"/>.</summary>
    public TeacherTask Task(string name) =>
        tasks.TryGetValue(name, out var task) ? task : throw new KeyNotFoundException($"the rules teach no task {name}");

    /// <summary>Evaluates the rules on every row of <paramref name="rows"/> (raw feature values, <see cref="FeatureNames"/> order).</summary>
    public RuleFirings Fire(float[][] rows) => Fire(rules, FeatureNames, rows);

    /// <summary>Whether any of <paramref name="task"/>'s rules fired, per row.</summary>
    public bool[] Fired(string task, RuleFirings firings)
    {
        ArgumentNullException.ThrowIfNull(firings);
        var tags = Task(task).Tags;
        return [.. Enumerable.Range(0, firings.Rows).Select(i => firings[i].Any(f => tags.Contains(f.Tag)))];
    }

    /// <summary>The teacher's probability for <paramref name="task"/>, per row (noisy-OR of the fired rules' confidences).</summary>
    public float[] Probabilities(string task, RuleFirings firings)
    {
        ArgumentNullException.ThrowIfNull(firings);
        var taught = Task(task);
        var result = new float[firings.Rows];
        for (var i = 0; i < result.Length; i++)
        {
            var fired = firings[i].Where(f => taught.Tags.Contains(f.Tag)).GroupBy(f => f.RuleId, StringComparer.Ordinal).ToArray();
            if (fired.Length == 0)
            {
                result[i] = (float)taught.NoRuleProbability;
                continue;
            }

            var none = 1.0;
            foreach (var rule in fired)
            {
                none *= 1 - ConfidenceOf(taught.Name, rule.First()).Confidence;
            }
            result[i] = (float)(1 - none);
        }
        return result;
    }

    /// <summary>
    /// Soft targets for a model whose tasks are <paramref name="taskNames"/> (in order): the teacher's probabilities for
    /// the tasks it teaches, null for the others (see <see cref="TrainingData.SoftTargets"/>).
    /// </summary>
    public IReadOnlyList<float[]?> SoftTargets(IReadOnlyList<string> taskNames, RuleFirings firings)
    {
        ArgumentNullException.ThrowIfNull(taskNames);
        return [.. taskNames.Select(n => tasks.ContainsKey(n) ? Probabilities(n, firings) : null)];
    }

    /// <summary><paramref name="data"/> with the teacher's soft targets for its tasks (<paramref name="taskNames"/>, in order).</summary>
    public TrainingData Teach(TrainingData data, IReadOnlyList<string> taskNames)
    {
        ArgumentNullException.ThrowIfNull(data);
        return data.WithSoftTargets(SoftTargets(taskNames, Fire(data.Features)));
    }

    /// <summary>The confidence <paramref name="fired"/>'s rule has for <paramref name="task"/>, and where it came from.</summary>
    public RuleConfidence ConfidenceOf(string task, FiredTag fired)
    {
        ArgumentNullException.ThrowIfNull(fired);
        var known = empirical.TryGetValue(Task(task).Name, out var e) && e.TryGetValue(fired.RuleId, out var estimate) ? estimate : null;
        if (explicitConfidences.TryGetValue(fired.RuleId, out var given))
        {
            return new RuleConfidence(fired.RuleId, given, ConfidenceSource.Explicit, known?.Fired ?? 0, known?.Positives ?? 0);
        }
        if (fired.Confidence is { } metadata)
        {
            return new RuleConfidence(fired.RuleId, metadata, ConfidenceSource.RuleMetadata, known?.Fired ?? 0, known?.Positives ?? 0);
        }
        return known ?? new RuleConfidence(fired.RuleId, Smoothed(0, 0), ConfidenceSource.Empirical, 0, 0);
    }

    private static double Smoothed(int positives, int rows) => (positives + 1.0) / (rows + 2.0);

    private static HashSet<string> FiredRules(IReadOnlyList<FiredTag> fired, IReadOnlySet<string> tags) =>
        fired.Where(f => tags.Contains(f.Tag)).Select(f => f.RuleId).ToHashSet(StringComparer.Ordinal);

    // The confidences a task reports: every rule that fired for it on the training rows, with its confidence's source.
    private static RuleConfidence[] Listed(
        TagRuleSet rules, Dictionary<string, RuleConfidence> estimates, IReadOnlyDictionary<string, double> given)
    {
        var metadata = rules.Rules.ToDictionary(r => r.Id, r => r.Confidence, StringComparer.Ordinal);
        return [.. estimates.Values.Select(e =>
            given.TryGetValue(e.RuleId, out var c) ? e with { Confidence = c, Source = ConfidenceSource.Explicit }
            : metadata.GetValueOrDefault(e.RuleId) is { } m ? e with { Confidence = m, Source = ConfidenceSource.RuleMetadata }
            : e)];
    }

    private static RuleFirings Fire(TagRuleSet rules, IReadOnlyList<string> featureNames, float[][] rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var fired = new IReadOnlyList<FiredTag>[rows.Length];
        for (var i = 0; i < rows.Length; i++)
        {
            if (rows[i].Length != featureNames.Count)
            {
                throw new ArgumentException($"row {i} has {rows[i].Length} values for {featureNames.Count} features", nameof(rows));
            }

            var features = new Dictionary<string, double>(featureNames.Count, StringComparer.Ordinal);
            for (var j = 0; j < featureNames.Count; j++)
            {
                if (!float.IsNaN(rows[i][j]))
                {
                    features[featureNames[j]] = rows[i][j];
                }
            }
            fired[i] = rules.Evaluate("r" + i.ToString(CultureInfo.InvariantCulture), features);
        }
        return new RuleFirings(fired);
    }

    private static int IndexOf(IReadOnlyList<string> taskNames, string name)
    {
        for (var t = 0; t < taskNames.Count; t++)
        {
            if (taskNames[t] == name)
            {
                return t;
            }
        }
        throw new ArgumentException($"the rules teach task {name}, which the data does not have", nameof(taskNames));
    }

    private static void CheckArguments(
        TagRuleSet rules,
        IReadOnlyList<string> featureNames,
        IReadOnlyDictionary<string, IReadOnlyCollection<string>> taskTags,
        IReadOnlyDictionary<string, double>? confidences)
    {
        ArgumentNullException.ThrowIfNull(rules);
        ArgumentNullException.ThrowIfNull(featureNames);
        ArgumentNullException.ThrowIfNull(taskTags);
        if (taskTags.Count == 0 || taskTags.Values.Any(t => t.Count == 0))
        {
            throw new ArgumentException("the teacher needs at least one task, each with at least one tag", nameof(taskTags));
        }
        if (confidences?.Values.Any(c => c is < 0 or > 1 || double.IsNaN(c)) == true)
        {
            throw new ArgumentOutOfRangeException(nameof(confidences), "rule confidences must be in [0, 1]");
        }
    }
}
