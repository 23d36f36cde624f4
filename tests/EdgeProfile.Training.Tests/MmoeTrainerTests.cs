using System.Diagnostics;
using EdgeProfile.Models;
using Xunit.Abstractions;

namespace EdgeProfile.Training.Tests;

[Collection(TorchCollection.Name)]
public sealed class MmoeTrainerTests(ITestOutputHelper output)
{
    private static readonly TrainingOptions Fast = new() { Epochs = 40, BatchSize = 128, LearningRate = 3e-3, Patience = 5, Seed = 7 };

    [Fact]
    public void Mmoe_training_reduces_loss_and_ranks_held_out_rows()
    {
        var (train, validation, test) = SyntheticData.Split(SyntheticData.Generate(6000, seed: 1), 0.6, 0.2);
        var watch = Stopwatch.StartNew();
        using var result = MmoeTrainer.Train(SyntheticData.Spec(), train, validation, Fast);
        var predictions = result.Model.Predict(test.Features);

        var auc1 = Metrics.RocAuc(SyntheticData.Column(predictions[0]), SyntheticData.Column(test.Labels[0]));
        var auc2 = Metrics.RocAuc(SyntheticData.Column(predictions[1]), SyntheticData.Column(test.Labels[1]));
        var rmse = Metrics.Rmse(SyntheticData.Column(predictions[2]), SyntheticData.Column(test.Labels[2]));
        var targets = SyntheticData.Column(test.Labels[2]);
        var baseline = Metrics.Rmse(Enumerable.Repeat(targets.Average(), targets.Length).ToArray(), targets);
        output.WriteLine($"epochs {result.Epochs.Count} best {result.BestEpoch} in {watch.ElapsedMilliseconds} ms; " +
            $"train loss {result.Epochs[0].TrainLoss:F4} -> {result.Epochs[^1].TrainLoss:F4}; " +
            $"validation {result.Epochs[0].ValidationLoss:F4} -> {result.Epochs[result.BestEpoch - 1].ValidationLoss:F4}; " +
            $"test AUC {auc1:F4} / {auc2:F4}; RMSE {rmse:F4} (predict-the-mean {baseline:F4})");

        Assert.True(result.Epochs[^1].TrainLoss < 0.8 * result.Epochs[0].TrainLoss);
        Assert.True(result.Epochs[result.BestEpoch - 1].ValidationLoss < result.Epochs[0].ValidationLoss);
        Assert.True(auc1 > 0.85, $"repurchase AUC {auc1}");
        Assert.True(auc2 > 0.85, $"churn AUC {auc2}");
        Assert.True(rmse < 0.5 * baseline, $"RMSE {rmse} vs {baseline}");
    }

    [Fact]
    public void Same_seed_gives_identical_weights_and_another_seed_does_not()
    {
        var (train, validation, _) = SyntheticData.Split(SyntheticData.Generate(1500, seed: 2), 0.7, 0.3);
        var options = Fast with { Epochs = 3 };
        using var a = MmoeTrainer.Train(SyntheticData.Spec(), train, validation, options);
        using var b = MmoeTrainer.Train(SyntheticData.Spec(), train, validation, options);
        using var c = MmoeTrainer.Train(SyntheticData.Spec(), train, validation, options with { Seed = 8 });

        Assert.Equal(Flatten(a.Weights), Flatten(b.Weights));
        Assert.Equal(a.Epochs.Select(e => e.TrainLoss), b.Epochs.Select(e => e.TrainLoss));
        Assert.NotEqual(Flatten(a.Weights), Flatten(c.Weights));
    }

    [Theory]
    [InlineData(3, new[] { 16, 12 }, new[] { 8 })]
    [InlineData(1, new[] { 6 }, new int[0])]
    [InlineData(1, new int[0], new int[0])]
    public void Exported_weights_reproduce_torch_predictions(int experts, int[] expertHidden, int[] towerHidden)
    {
        var (train, validation, test) = SyntheticData.Split(SyntheticData.Generate(1200, seed: 3), 0.6, 0.2);
        var spec = SyntheticData.Spec(experts, expertHidden, towerHidden);
        using var result = MmoeTrainer.Train(spec, train, validation, Fast with { Epochs = 5 });
        var torchPredictions = result.Model.Predict(test.Features);

        Assert.Equal(experts, result.Weights.Experts.Count);
        Assert.All(result.Weights.Experts, e => Assert.Equal(expertHidden.Length, e.Count));
        Assert.All(result.Weights.Towers, t => Assert.Equal(towerHidden.Length + 1, t.Count));
        var maxError = 0.0;
        for (var i = 0; i < test.Rows; i++)
        {
            var reference = ReferenceForward.Predict(result.Weights, test.Features[i]);
            for (var t = 0; t < spec.Tasks.Count; t++)
            {
                for (var k = 0; k < reference[t].Length; k++)
                {
                    maxError = Math.Max(maxError, Math.Abs(reference[t][k] - torchPredictions[t][i][k]));
                }
            }
        }
        output.WriteLine($"max |C# − torch| = {maxError:E2}");
        Assert.True(maxError < 1e-5, $"max error {maxError}");
    }

    [Fact]
    public void Standardisation_is_fitted_on_training_rows_only()
    {
        var (train, validation, _) = SyntheticData.Split(SyntheticData.Generate(1000, seed: 4), 0.5, 0.5);
        // Shift validation far away: any leak into the statistics would move the mean.
        var shifted = new TrainingData(validation.Features.Select(r => r.Select(v => v + 1e4f).ToArray()).ToArray(), validation.Labels);
        using var result = MmoeTrainer.Train(SyntheticData.Spec(), train, shifted, Fast with { Epochs = 1 });

        for (var j = 0; j < SyntheticData.Width; j++)
        {
            var column = train.Features.Select(r => (double)r[j]).ToArray();
            var mean = column.Average();
            var std = Math.Sqrt(column.Select(v => (v - mean) * (v - mean)).Average());
            Assert.Equal(mean, result.Weights.Mean[j], Math.Max(1e-4, Math.Abs(mean) * 1e-5));
            Assert.Equal(std, result.Weights.Std[j], Math.Max(1e-4, std * 1e-4));
        }
    }

    [Fact]
    public void Logistic_regression_baseline_learns_a_linearly_separable_task()
    {
        var random = new Random(5);
        var rows = 1500;
        var features = new float[rows][];
        var labels = new float[rows][];
        for (var i = 0; i < rows; i++)
        {
            features[i] = [(float)(random.NextDouble() * 20 - 10), (float)(random.NextDouble() * 2 + 100), (float)random.NextDouble()];
            // separable with a margin: 0.3·x0 − 2·(x1 − 101) > 0, rows inside the margin are dropped
            var score = 0.3 * features[i][0] - 2 * (features[i][1] - 101);
            labels[i] = [score > 0 ? 1f : 0f];
            if (Math.Abs(score) < 0.2)
            {
                i--;
            }
        }
        var data = new TrainingData(features, [labels]);
        var (train, validation, test) = (data.Subset(Enumerable.Range(0, 900).ToArray()), data.Subset(Enumerable.Range(900, 300).ToArray()), data.Subset(Enumerable.Range(1200, 300).ToArray()));
        var spec = new ModelSpec(["x0", "x1", "noise"], 1, [], [], [new TaskSpec("separable", TaskKind.Binary)]);
        using var result = MmoeTrainer.Train(spec, train, validation, Fast with { Epochs = 60, LearningRate = 0.05, Patience = 10 });

        var p = SyntheticData.Column(result.Model.Predict(test.Features)[0]);
        var y = SyntheticData.Column(test.Labels[0]);
        var accuracy = p.Zip(y, (pi, yi) => (pi > 0.5f) == (yi > 0.5f) ? 1.0 : 0.0).Average();
        output.WriteLine($"logistic regression: accuracy {accuracy:F4}, AUC {Metrics.RocAuc(p, y):F4}, epochs {result.Epochs.Count}");
        Assert.Empty(result.Weights.Experts[0]); // the expert passes the standardised input through
        var dense = Assert.Single(result.Weights.Towers[0]);
        Assert.Equal((3, 1), (dense.In, dense.Out));
        Assert.True(accuracy > 0.97, $"accuracy {accuracy}");
        Assert.True(Metrics.RocAuc(p, y) > 0.995);
    }

    [Fact]
    public void Masked_rows_do_not_reach_the_loss()
    {
        var (train, validation, test) = SyntheticData.Split(SyntheticData.Generate(3000, seed: 6), 0.6, 0.2);
        // Half the training rows of task 0 get inverted labels but are masked out: the model must still learn the truth.
        var corrupted = train.Labels[0].Select((r, i) => i % 2 == 0 ? r : [1 - r[0]]).ToArray();
        var mask = Enumerable.Range(0, train.Rows).Select(i => i % 2 == 0).ToArray();
        var masked = new TrainingData(train.Features, [corrupted, train.Labels[1], train.Labels[2]], [mask, null, null]);
        using var result = MmoeTrainer.Train(SyntheticData.Spec(), masked, validation, Fast with { Epochs = 15 });

        var auc = Metrics.RocAuc(SyntheticData.Column(result.Model.Predict(test.Features)[0]), SyntheticData.Column(test.Labels[0]));
        output.WriteLine($"AUC with half the rows masked (and corrupted): {auc:F4}");
        Assert.True(auc > 0.85, $"AUC {auc}");
    }

    private static float[] Flatten(ModelWeights w) =>
        w.Mean.Concat(w.Std)
            .Concat(w.Experts.SelectMany(e => e).Concat(w.Gates).Concat(w.Towers.SelectMany(t => t)).SelectMany(d => d.W.Concat(d.B)))
            .ToArray();
}
