using EdgeProfile.Models;
using EdgeProfile.Models.Reference;
using EdgeProfile.Training.Federated;
using Xunit.Abstractions;

namespace EdgeProfile.Training.Tests;

[Collection(TorchCollection.Name)]
public sealed class FederatedLocalTrainerTests(ITestOutputHelper output)
{
    // Feature 3 (offset 1000, scale 100) is positive and large: a log1p flag on it exercises the fixed transform.
    private static readonly bool[] Log1p = Enumerable.Range(0, SyntheticData.Width).Select(j => j == 3).ToArray();

    private static readonly LocalTrainingOptions Sgd = new() { Epochs = 3, BatchSize = 64, LearningRate = 0.05, Momentum = 0.9, Seed = 5 };

    private static readonly LocalTrainingOptions Adam = new() { Epochs = 1, BatchSize = 64, Optimizer = LocalOptimizer.Adam, LearningRate = 3e-3, Seed = 5 };

    [Fact]
    public void Zero_epochs_return_the_global_weights_and_a_zero_delta()
    {
        var data = SyntheticData.Generate(500, seed: 1);
        var global = Initial(SyntheticData.Spec(), data, seed: 3);

        var result = FederatedLocalTrainer.Train(global, data, Sgd with { Epochs = 0 });

        // Non-square layers (10→16, 16→8): a transpose missed on load or read would scramble or reject them.
        Assert.Equal(ModelWeightsVector.Flatten(global), ModelWeightsVector.Flatten(result.Weights));
        Assert.All(result.Delta, d => Assert.Equal(0f, d));
        Assert.Equal(global.Mean, result.Weights.Mean);
        Assert.Equal(global.Std, result.Weights.Std);
        Assert.Equal(Log1p, result.Weights.Log1p);
        Assert.Equal(500, result.Samples);
        Assert.True(double.IsNaN(result.TrainLoss));
    }

    [Fact]
    public void Loaded_weights_score_as_the_reference_forward_pass()
    {
        var data = SyntheticData.Generate(600, seed: 2);
        var trained = FederatedLocalTrainer.Train(Initial(SyntheticData.Spec(), data, seed: 3), data, Sgd with { Epochs = 1 }).Weights;

        var torch = LocalEvaluation.Predict(trained, data.Features);
        var reference = new ReferenceModel(trained);

        for (var i = 0; i < 50; i++)
        {
            var expected = reference.Forward(data.Features[i]);
            for (var t = 0; t < expected.Length; t++)
            {
                Assert.Equal(expected[t][0], torch[t][i][0], 4);
            }
        }
    }

    [Fact]
    public void Local_losses_are_masked_weighted_BCE_and_MSE_of_the_reference_forward_pass()
    {
        var full = SyntheticData.Generate(400, seed: 10);
        // Task 0 labelled on every third row only; task 2 (regression) on all.
        var mask = Enumerable.Range(0, full.Rows).Select(i => i % 3 == 0).ToArray();
        var data = new TrainingData(full.Features, full.Labels, [mask, null, null]);
        var weights = Initial(SyntheticData.Spec(), data, seed: 3);
        const float PositiveWeight = 2.5f;

        var metrics = FederatedLocalTrainer.Train(weights, data, Sgd with { Epochs = 0, PositiveWeights = [[PositiveWeight], null, null] }).Metrics;

        var reference = new ReferenceModel(weights);
        var outputs = data.Features.Select(r => reference.Forward(r)).ToArray();
        double bce = 0, mse = 0;
        for (var i = 0; i < data.Rows; i++)
        {
            if (mask[i])
            {
                var p = outputs[i][0][0];
                var y = data.Labels[0][i][0];
                bce -= (PositiveWeight * y * Math.Log(p)) + ((1 - y) * Math.Log(1 - p));
            }
            var d = outputs[i][2][0] - data.Labels[2][i][0];
            mse += d * d;
        }
        Assert.Equal(bce / mask.Count(m => m), metrics["loss_repurchase"], 3);
        Assert.Equal(mse / data.Rows, metrics["loss_ltv"], 3);
    }

    [Fact]
    public void One_local_call_reduces_the_loss()
    {
        var data = SyntheticData.Generate(2000, seed: 4);
        var global = Initial(SyntheticData.Spec(), data, seed: 3);

        var before = FederatedLocalTrainer.Train(global, data, Sgd with { Epochs = 0 }).Metrics;
        var after = FederatedLocalTrainer.Train(global, data, Sgd);

        output.WriteLine($"loss {before["loss"]:F4} -> {after.Metrics["loss"]:F4}; AUC {before["auc_repurchase"]:F3} -> {after.Metrics["auc_repurchase"]:F3}; last-epoch batch loss {after.TrainLoss:F4}");
        Assert.True(after.Metrics["loss"] < 0.8 * before["loss"]);
        Assert.True(after.Metrics["auc_repurchase"] > before["auc_repurchase"] + 0.1);
        Assert.True(double.IsFinite(after.TrainLoss));
    }

    [Fact]
    public void Same_seed_gives_an_identical_delta_and_another_seed_a_different_one()
    {
        var data = SyntheticData.Generate(800, seed: 5);
        var global = Initial(SyntheticData.Spec(), data, seed: 3);

        var first = FederatedLocalTrainer.Train(global, data, Adam);
        var second = FederatedLocalTrainer.Train(global, data, Adam);
        var other = FederatedLocalTrainer.Train(global, data, Adam with { Seed = 6 });

        Assert.Equal(first.Delta, second.Delta);
        Assert.NotEqual(first.Delta, other.Delta);
        Assert.Contains(first.Delta, d => d != 0f);
    }

    [Fact]
    public void FedProx_with_a_large_mu_keeps_the_update_near_the_global_model()
    {
        var data = SyntheticData.Generate(2000, seed: 6);
        var global = Initial(SyntheticData.Spec(), data, seed: 3);

        var plain = FederatedLocalTrainer.Train(global, data, Sgd);
        // μ = 10 with learning rate 0.05: the proximal pull dominates every step yet stays stable (lr·μ = 0.5).
        var proximal = FederatedLocalTrainer.Train(global, data, Sgd with { ProximalMu = 10 });

        var ratio = Norm(proximal.Delta) / Norm(plain.Delta);
        output.WriteLine($"‖Δ‖ μ=0 {Norm(plain.Delta):F4}, μ=10 {Norm(proximal.Delta):F4} (ratio {ratio:F3}); loss {plain.Metrics["loss"]:F4} vs {proximal.Metrics["loss"]:F4}");
        Assert.True(ratio < 0.25, $"ratio {ratio}");
        Assert.True(Norm(proximal.Delta) > 0);
    }

    [Fact]
    public void FedAvg_of_two_IID_clients_comes_close_to_central_training()
    {
        var train = SyntheticData.Generate(4000, seed: 7);
        var test = SyntheticData.Generate(2000, seed: 8);
        var spec = SyntheticData.Spec(experts: 2);
        var global = Initial(spec, train, seed: 3);
        const int Rounds = 8;

        var central = FederatedLocalTrainer.Train(global, train, Adam with { Epochs = Rounds }).Weights;

        // Client moments add up to the union's: the job's transform is the one central training uses.
        var (meanA, stdA) = FeatureMoments.Of(train.Subset(Enumerable.Range(0, 2000).ToArray()).Features, Log1p)
            .Add(FeatureMoments.Of(train.Subset(Enumerable.Range(2000, 2000).ToArray()).Features, Log1p)).MeanStd();
        Assert.Equal(global.Mean, meanA, (a, b) => Math.Abs(a - b) < 1e-4f * Math.Max(1, Math.Abs(a)));
        Assert.Equal(global.Std, stdA, (a, b) => Math.Abs(a - b) < 1e-4f * Math.Max(1, Math.Abs(a)));

        var clients = new[] { train.Subset(Enumerable.Range(0, 1500).ToArray()), train.Subset(Enumerable.Range(1500, 2500).ToArray()) };
        var federated = global;
        for (var round = 0; round < Rounds; round++)
        {
            var updates = clients.Select((c, k) => FederatedLocalTrainer.Train(federated, c, Adam with { Seed = (round * 10) + k })).ToArray();
            // FedAvg with server learning rate 1: x ← x + Σ n_k Δ_k / Σ n_k.
            var x = ModelWeightsVector.Flatten(federated);
            var total = updates.Sum(u => (double)u.Samples);
            for (var i = 0; i < x.Length; i++)
            {
                x[i] += (float)updates.Sum(u => u.Samples * (double)u.Delta[i] / total);
            }
            federated = ModelWeightsVector.Unflatten(federated, x);
        }

        var c = LocalEvaluation.Evaluate(central, test);
        var f = LocalEvaluation.Evaluate(federated, test);
        var start = LocalEvaluation.Evaluate(global, test);
        output.WriteLine($"test AUC repurchase: start {start["auc_repurchase"]:F4}, central {c["auc_repurchase"]:F4}, FedAvg {f["auc_repurchase"]:F4}; churn {start["auc_churn"]:F4} / {c["auc_churn"]:F4} / {f["auc_churn"]:F4}; RMSE ltv {c["rmse_ltv"]:F4} / {f["rmse_ltv"]:F4}");
        foreach (var task in new[] { "auc_repurchase", "auc_churn" })
        {
            Assert.True(c[task] > start[task] + 0.1, $"central did not learn {task}");
            Assert.True(Math.Abs(f[task] - c[task]) < 0.02, $"{task}: FedAvg {f[task]:F4}, central {c[task]:F4}");
        }
    }

    [Fact]
    public void Initial_weights_depend_only_on_the_seed()
    {
        var spec = SyntheticData.Spec();
        var mean = new float[SyntheticData.Width];
        var std = Enumerable.Repeat(1f, SyntheticData.Width).ToArray();

        var a = ModelWeightsVector.Flatten(FederatedInit.Initial(spec, mean, std, null, seed: 11));
        var b = ModelWeightsVector.Flatten(FederatedInit.Initial(spec, mean, std, null, seed: 11));
        var other = ModelWeightsVector.Flatten(FederatedInit.Initial(spec, mean, std, null, seed: 12));

        Assert.Equal(a, b);
        Assert.NotEqual(a, other);
    }

    [Fact]
    public void Summed_client_moments_give_the_standardiser_of_the_union()
    {
        var data = SyntheticData.Generate(900, seed: 9);
        var parts = new[] { 0..200, 200..650, 650..900 }
            .Select(r => FeatureMoments.Of(data.Subset(Enumerable.Range(r.Start.Value, r.End.Value - r.Start.Value).ToArray()).Features))
            .ToArray();

        var (mean, std) = parts[0].Add(parts[1]).Add(parts[2]).MeanStd();
        var expected = Standardizer.Fit(data.Features);

        for (var j = 0; j < SyntheticData.Width; j++)
        {
            Assert.Equal(expected.Mean[j], mean[j], 1e-3 * Math.Max(1, Math.Abs(expected.Mean[j])));
            Assert.Equal(expected.Std[j], std[j], 1e-3 * Math.Max(1, expected.Std[j]));
        }
    }

    private static ModelWeights Initial(ModelSpec spec, TrainingData data, int seed)
    {
        var (mean, std) = FeatureMoments.Of(data.Features, Log1p).MeanStd();
        return FederatedInit.Initial(spec, mean, std, Log1p, seed);
    }

    private static double Norm(float[] v) => Math.Sqrt(v.Sum(x => (double)x * x));
}
