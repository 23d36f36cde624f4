using System.Globalization;
using System.Text;
using EdgeProfile.Models;

namespace EdgeProfile.Training.Census;

/// <summary>
/// Compares MMoE with its baselines on <see cref="AdultDataset"/>: for each seed, a seeded validation split of
/// <c>adult.data</c> (<see cref="ValidationRows"/>) for early stopping, the numeric encoding and the boosted-tree leaf
/// encoding (<see cref="TreeLeafEncoding"/>) fitted on the remaining training rows only, then validation and test AUC
/// on <c>adult.test</c> for each task of MMoE, shared-bottom (one expert, both tasks), single-task MLP (one model per task) and logistic regression (one model per task). Every model
/// gets the same features, split and training settings.
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
        var aucs = new Dictionary<(string Model, string Task), (List<double> Validation, List<double> Test)>();
        foreach (var seed in options.Seeds)
        {
            var validationRows = ValidationRows(data.Train.Rows, options.ValidationFraction, seed);
            var isValidation = new bool[data.Train.Rows];
            foreach (var i in validationRows)
            {
                isValidation[i] = true;
            }
            var (train, validation) = (data.Train.Subset([.. Enumerable.Range(0, data.Train.Rows).Where(i => !isValidation[i])]), data.Train.Subset(validationRows));
            var test = data.Test;
            var features = data.Features;
            if (options.PiecewiseLinearBins > 0)
            {
                var encoding = options.TargetAwareBins
                    ? PiecewiseLinearEncoding.FitTargetAware(train.Features, AdultDataset.NumericFeatures, [.. train.Labels.Select(l => l.Select(y => y[0]).ToArray())], options.PiecewiseLinearBins, options.BinMinRows)
                    : PiecewiseLinearEncoding.Fit(train.Features, AdultDataset.NumericFeatures, options.PiecewiseLinearBins);
                (train, validation, test) = (Encode(encoding, train), Encode(encoding, validation), Encode(encoding, test));
                features = encoding.FeatureNames(features);
            }
            if (options.TreeLeafTrees > 0)
            {
                var boostedOn = options.TreeLeafTasks ?? [.. Enumerable.Range(0, tasks.Length)];
                var leaves = TreeLeafEncoding.Fit(train.Features, [.. boostedOn.Select(t => train.Labels[t].Select(y => y[0]).ToArray())], options.TreeLeafTrees, options.TreeLeafDepth);
                (train, validation, test) = (WithLeaves(leaves, train), WithLeaves(leaves, validation), WithLeaves(leaves, test));
                features = leaves.FeatureNames(features);
            }
            var training = options.Training with
            {
                Seed = seed,
                // The one-hot and encoding columns are already on a 0..1 scale; only the raw numeric columns are standardised.
                UnscaledFeatures = options.StandardizeIndicators ? null : [.. Enumerable.Range(0, features.Count).Except(AdultDataset.NumericFeatures)],
            };

            Score(Mmoe, new ModelSpec(features, options.Experts, options.ExpertHidden, options.TowerHidden, tasks), [0, 1]);
            Score(SharedBottom, new ModelSpec(features, 1, options.SharedBottomHidden ?? options.ExpertHidden, options.TowerHidden, tasks), [0, 1]);
            for (var t = 0; t < tasks.Length; t++)
            {
                Score(SingleTaskMlp, new ModelSpec(features, 1, options.SingleTaskHidden ?? options.ExpertHidden, options.TowerHidden, [tasks[t]]), [t]);
                Score(LogisticRegression, new ModelSpec(features, 1, [], [], [tasks[t]]), [t]);
            }

            void Score(string model, ModelSpec spec, int[] taskIndices)
            {
                var taskTraining = training with
                {
                    PositiveWeights = options.BalanceClasses ? [.. taskIndices.Select(t => ClassWeights.PositiveWeights(train.Labels[t]))] : null,
                };
                using var result = MmoeTrainer.Train(spec, Select(train, taskIndices), Select(validation, taskIndices), taskTraining);
                var validationPredictions = result.Model.Predict(validation.Features);
                var testPredictions = result.Model.Predict(test.Features);
                for (var k = 0; k < taskIndices.Length; k++)
                {
                    var t = taskIndices[k];
                    var key = (model, AdultDataset.Tasks[t]);
                    if (!aucs.TryGetValue(key, out var lists))
                    {
                        aucs[key] = lists = ([], []);
                    }
                    lists.Validation.Add(Auc(validationPredictions[k], validation.Labels[t]));
                    lists.Test.Add(Auc(testPredictions[k], test.Labels[t]));
                }
            }
        }
        var order = new[] { Mmoe, SharedBottom, SingleTaskMlp, LogisticRegression };
        var rows = aucs
            .OrderBy(kv => Array.IndexOf(order, kv.Key.Model)).ThenBy(kv => AdultDataset.Tasks.ToList().IndexOf(kv.Key.Task))
            .Select(kv => new CensusEvaluationRow(kv.Key.Model, kv.Key.Task, kv.Value.Test.Average(), SampleStd(kv.Value.Test), [.. kv.Value.Test])
            {
                ValidationAucs = [.. kv.Value.Validation],
            })
            .ToArray();
        return new CensusEvaluation(rows);
    }

    /// <summary>
    /// The rows of the training file held out for validation (early stopping) for <paramref name="seed"/>: a seeded
    /// shuffle's first <c>round(rows × fraction)</c>, in ascending order. The benchmark hands the same rows to xgboost.
    /// </summary>
    public static int[] ValidationRows(int rows, double fraction, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(rows);
        if (fraction is <= 0 or >= 1)
        {
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "the validation fraction must be in (0, 1)");
        }
        var order = Enumerable.Range(0, rows).ToArray();
        new Random(seed).Shuffle(order);
        var nValidation = (int)Math.Round(rows * fraction);
        return [.. order[..nValidation].Order()];
    }

    /// <summary>The rows as a fixed-width text table: model, task, test AUC mean ± std (n seeds), validation AUC mean.</summary>
    public string ToTable()
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"{"model",-20} {"task",-14} {"test AUC",-24} {"validation AUC",-14}");
        foreach (var row in Rows)
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"{row.Model,-20} {row.Task,-14} {$"{row.MeanAuc:F4} ± {row.StdAuc:F4} (n={row.Aucs.Count})",-24} {row.ValidationMeanAuc:F4}");
        }
        return text.ToString();
    }

    private static TrainingData Encode(PiecewiseLinearEncoding encoding, TrainingData data) =>
        new(encoding.Transform(data.Features), data.Labels, data.Masks);

    private static TrainingData WithLeaves(TreeLeafEncoding leaves, TrainingData data) =>
        new(leaves.Transform(data.Features), data.Labels, data.Masks);

    private static double Auc(float[][] predictions, float[][] labels) =>
        Metrics.RocAuc([.. predictions.Select(p => p[0])], [.. labels.Select(y => y[0])]);

    private static TrainingData Select(TrainingData data, int[] tasks) =>
        new(data.Features, tasks.Select(t => data.Labels[t]).ToArray(), data.Masks is null ? null : tasks.Select(t => data.Masks[t]).ToArray());

    internal static double SampleStd(IReadOnlyList<double> values)
    {
        if (values.Count < 2)
        {
            return 0;
        }
        var mean = values.Average();
        return Math.Sqrt(values.Sum(v => (v - mean) * (v - mean)) / (values.Count - 1));
    }
}
