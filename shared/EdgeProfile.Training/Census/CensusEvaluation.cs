using System.Globalization;
using System.Text;
using EdgeProfile.Models;

namespace EdgeProfile.Training.Census;

/// <summary>
/// Compares MMoE with its baselines on <see cref="AdultDataset"/>: for each seed, a seeded validation split of
/// <c>adult.data</c> for early stopping, then test AUC on <c>adult.test</c> for each task of MMoE, shared-bottom (one
/// expert, both tasks), single-task MLP (one model per task) and logistic regression (one model per task).
/// </summary>
public sealed class CensusEvaluation
{
    /// <summary>Model names, in report order.</summary>
    public const string Mmoe = "MMoE", SharedBottom = "shared-bottom", SingleTaskMlp = "single-task MLP", LogisticRegression = "logistic regression";

    private CensusEvaluation(IReadOnlyList<CensusEvaluationRow> rows) => Rows = rows;

    /// <summary>One row per model and task.</summary>
    public IReadOnlyList<CensusEvaluationRow> Rows { get; }

    /// <summary>The row of <paramref name="model"/> on <paramref name="task"/>.</summary>
    public CensusEvaluationRow this[string model, string task] => Rows.Single(r => r.Model == model && r.Task == task);

    /// <summary>Trains and scores every model for every seed on the data in <paramref name="directory"/>.</summary>
    public static CensusEvaluation Evaluate(string directory, CensusEvaluationOptions? options = null) =>
        Evaluate(AdultDataset.Load(directory), options);

    /// <summary>Trains and scores every model for every seed on <paramref name="data"/>.</summary>
    public static CensusEvaluation Evaluate(AdultDataset data, CensusEvaluationOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(data);
        options ??= new CensusEvaluationOptions();
        var tasks = AdultDataset.Tasks.Select(t => new TaskSpec(t, TaskKind.Binary)).ToArray();
        var aucs = new Dictionary<(string Model, string Task), List<double>>();
        foreach (var seed in options.Seeds)
        {
            var (train, validation) = Split(data.Train, options.ValidationFraction, seed);
            var training = options.Training with { Seed = seed };

            Score(Mmoe, new ModelSpec(data.Features, options.Experts, options.ExpertHidden, options.TowerHidden, tasks), [0, 1]);
            Score(SharedBottom, new ModelSpec(data.Features, 1, options.ExpertHidden, options.TowerHidden, tasks), [0, 1]);
            for (var t = 0; t < tasks.Length; t++)
            {
                Score(SingleTaskMlp, new ModelSpec(data.Features, 1, options.ExpertHidden, options.TowerHidden, [tasks[t]]), [t]);
                Score(LogisticRegression, new ModelSpec(data.Features, 1, [], [], [tasks[t]]), [t]);
            }

            void Score(string model, ModelSpec spec, int[] taskIndices)
            {
                using var result = MmoeTrainer.Train(spec, Select(train, taskIndices), Select(validation, taskIndices), training);
                var predictions = result.Model.Predict(data.Test.Features);
                for (var k = 0; k < taskIndices.Length; k++)
                {
                    var t = taskIndices[k];
                    var auc = Metrics.RocAuc(predictions[k].Select(p => p[0]).ToArray(), data.Test.Labels[t].Select(y => y[0]).ToArray());
                    var key = (model, AdultDataset.Tasks[t]);
                    if (!aucs.TryGetValue(key, out var list))
                    {
                        aucs[key] = list = [];
                    }
                    list.Add(auc);
                }
            }
        }
        var order = new[] { Mmoe, SharedBottom, SingleTaskMlp, LogisticRegression };
        var rows = aucs
            .OrderBy(kv => Array.IndexOf(order, kv.Key.Model)).ThenBy(kv => AdultDataset.Tasks.ToList().IndexOf(kv.Key.Task))
            .Select(kv => new CensusEvaluationRow(kv.Key.Model, kv.Key.Task, kv.Value.Average(), SampleStd(kv.Value), kv.Value.ToArray()))
            .ToArray();
        return new CensusEvaluation(rows);
    }

    /// <summary>The rows as a fixed-width text table: model, task, AUC mean ± std (n seeds).</summary>
    public string ToTable()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{"model",-20} {"task",-14} {"test AUC",-18}");
        foreach (var row in Rows)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{row.Model,-20} {row.Task,-14} {row.MeanAuc:F4} ± {row.StdAuc:F4} (n={row.Aucs.Count})");
        }
        return text.ToString();
    }

    private static (TrainingData Train, TrainingData Validation) Split(TrainingData data, double validationFraction, int seed)
    {
        var order = Enumerable.Range(0, data.Rows).ToArray();
        new Random(seed).Shuffle(order);
        var nValidation = (int)Math.Round(data.Rows * validationFraction);
        return (data.Subset(order[nValidation..]), data.Subset(order[..nValidation]));
    }

    private static TrainingData Select(TrainingData data, int[] tasks) =>
        new(data.Features, tasks.Select(t => data.Labels[t]).ToArray(), data.Masks is null ? null : tasks.Select(t => data.Masks[t]).ToArray());

    private static double SampleStd(List<double> values)
    {
        if (values.Count < 2)
        {
            return 0;
        }
        var mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
    }
}
