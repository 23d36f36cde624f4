using System.Collections.Concurrent;
using System.Globalization;
using EdgeProfile.Models.Onnx;
using EdgeProfile.Models.Scoring;
using EdgeProfile.Models.Serving;
using Google.Protobuf;
using Xunit.Abstractions;

namespace EdgeProfile.Models.Tests;

/// <summary>A <see cref="ModelHost"/> without fixed features: each model brings its own, and rows are built per model.</summary>
public sealed class FlexibleHostTests(ITestOutputHelper output)
{
    /// <summary>What the test customers have; a model takes some of these, in its own order.</summary>
    private static readonly string[] Attributes = ["a", "b", "c", "d"];

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    [Fact]
    public void Each_model_brings_its_own_features_and_results_carry_them()
    {
        var v1 = Weights(["a", "b"], seed: 1);
        var v2 = Weights(["b", "c", "d"], seed: 2);
        var customers = Customers(4, seed: 3);
        var asked = new List<string[]>();
        Canary CanaryFor(IReadOnlyList<string> features)
        {
            asked.Add([.. features]);
            return new Canary(RowsFor(customers, features));
        }

        using var host = new ModelHost();
        Assert.False(host.HasFixedFeatures);
        Assert.Empty(host.Features);

        var first = host.TryDeploy(OnnxExporter.Export(v1), "v1", CanaryFor);
        Assert.True(first.Accepted, first.Message);
        Assert.Equal("model v1 deployed: 4 canary rows finite", first.Message);
        Assert.Equal([["a", "b"]], asked);
        Assert.Equal(["a", "b"], host.Features);
        using var lease1 = host.Lease();
        AssertScores(lease1, v1, customers);

        var second = host.TryDeploy(OnnxExporter.Export(v2), "v2", CanaryFor);
        Assert.True(second.Accepted, second.Message);
        Assert.Equal([["a", "b"], ["b", "c", "d"]], asked);
        Assert.Equal(["b", "c", "d"], host.Features);
        Assert.Equal(["a", "b"], host.Previous!.Features);
        using (var lease2 = host.Lease())
        {
            AssertScores(lease2, v2, customers);
        }

        // The lease taken before the swap still scores two-feature rows with v1.
        AssertScores(lease1, v1, customers);
        var direct = host.Score(RowsFor(customers, host.Features).AsSpan(0, 3));
        Assert.Equal("v2", direct.Version);
        Assert.Equal(["b", "c", "d"], direct.Model.Features);

        Assert.Equal("v1", host.Rollback("test").Version);
        Assert.Equal(["a", "b"], host.Features);
        using var fixedHost = new ModelHost(["a", "b"]);
        Assert.True(fixedHost.HasFixedFeatures);
        var wrongOverload = Assert.Throws<InvalidOperationException>(() => fixedHost.TryDeploy(OnnxExporter.Export(v1), "v1", CanaryFor));
        Assert.Equal("this host has fixed features: deploy with a Canary", wrongOverload.Message);
    }

    [Fact]
    public void Model_without_feature_metadata_is_refused_as_a_shape_mismatch()
    {
        var v1 = Weights(["a", "b"], seed: 1);
        var customers = Customers(4, seed: 3);
        var asked = new List<string[]>();
        Canary CanaryFor(IReadOnlyList<string> features)
        {
            asked.Add([.. features]);
            return new Canary(RowsFor(customers, features));
        }

        var proto = OnnxExporter.BuildModel(Weights(["b", "c"], seed: 2));
        Assert.True(proto.MetadataProps.Remove(proto.MetadataProps.Single(p => p.Key == OnnxMetadataKeys.Features)));
        var anonymous = proto.ToByteArray();
        using var host = new ModelHost();

        var onEmpty = host.TryDeploy(anonymous, "v0", CanaryFor);
        Assert.Equal(DeployFailure.ShapeMismatch, onEmpty.Failure);
        Assert.Null(host.Current);

        Assert.True(host.TryDeploy(OnnxExporter.Export(v1), "v1", CanaryFor).Accepted);
        var refused = host.TryDeploy(anonymous, "v2", CanaryFor);

        Assert.False(refused.Accepted);
        Assert.Equal(DeployFailure.ShapeMismatch, refused.Failure);
        Assert.Equal("model v2 refused: its metadata does not list its features, which a host whose models bring their own features needs", refused.Message);
        Assert.Equal([["a", "b"]], asked);
        using var lease = host.Lease();
        AssertScores(lease, v1, customers);
        Assert.Equal([ModelEvent.Refused, ModelEvent.Deployed, ModelEvent.Refused], host.History.Select(h => h.Event));
    }

    [Fact]
    public void Holdout_AUCs_compare_across_feature_lists_with_each_model_scoring_its_own_rows()
    {
        var v1 = Weights(["a", "b"], seed: 1);
        var v2 = Weights(["b", "c", "d"], seed: 2);
        var customers = Customers(400, seed: 5);
        var canaryCustomers = Customers(8, seed: 6);
        var v2Scores = RepurchaseScores(v2, RowsFor(customers, v2.Spec.Features));
        var v1Scores = RepurchaseScores(v1, RowsFor(customers, v1.Spec.Features));

        // Labelled by v2's repurchase probability (above its median, 10% flipped): v2 is good here, v1 is not.
        float median = v2Scores.Order().ElementAt(200);
        var random = new Random(14);
        var labels = v2Scores.Select(p => (p > median) ^ (random.NextDouble() < 0.1)).ToArray();
        double v1Auc = ServingModels.PairwiseAuc(v1Scores, labels);
        double v2Auc = ServingModels.PairwiseAuc(v2Scores, labels);
        output.WriteLine($"holdout AUC: v1 (a, b) {v1Auc:0.0000}, v2 (b, c, d) {v2Auc:0.0000}");
        Assert.True(v2Auc - v1Auc > 0.1, $"v2 {v2Auc} should beat v1 {v1Auc} clearly on its own labels");

        var asked = new List<string[]>();
        Canary CanaryFor(IReadOnlyList<string> features)
        {
            asked.Add([.. features]);
            var holdout = new CanaryHoldout(RowsFor(customers, features), new Dictionary<string, bool[]> { ["repurchase_30d"] = labels });
            return new Canary(RowsFor(canaryCustomers, features), holdout);
        }

        using var host = new ModelHost();

        // The first model has nothing to compare with: its AUC is reported alone.
        var first = host.TryDeploy(OnnxExporter.Export(v1), "v1", CanaryFor);
        Assert.True(first.Accepted, first.Message);
        var alone = Assert.Single(first.Aucs);
        Assert.Equal(v1Auc, alone.Candidate, 1e-12);
        Assert.Null(alone.Serving);
        Assert.Equal([["a", "b"]], asked);

        // A better candidate over other features: the serving model's AUC comes from rows built for its own features.
        asked.Clear();
        var better = host.TryDeploy(OnnxExporter.Export(v2), "v2", CanaryFor);
        Assert.True(better.Accepted, better.Message);
        Assert.Equal([["b", "c", "d"], ["a", "b"]], asked);
        var auc = Assert.Single(better.Aucs);
        Assert.Equal(v2Auc, auc.Candidate, 1e-12);
        Assert.Equal(v1Auc, auc.Serving!.Value, 1e-12);

        // v1's file back as a new version is worse than v2 by more than MaxAucDrop: refused, v2 keeps serving.
        asked.Clear();
        var worse = host.TryDeploy(OnnxExporter.Export(v1), "v3", CanaryFor);
        output.WriteLine(worse.Message);
        Assert.False(worse.Accepted);
        Assert.Equal(DeployFailure.AucDrop, worse.Failure);
        Assert.Equal([["a", "b"], ["b", "c", "d"]], asked);
        Assert.Equal(
            string.Create(CultureInfo.InvariantCulture, $"model v3 refused: task repurchase_30d AUC {v1Auc:0.0000} on the holdout (400 rows) vs {v2Auc:0.0000} for serving model v2: a drop of {v2Auc - v1Auc:0.0000}, more than the allowed 0.0100"),
            worse.Message);
        Assert.Equal(v1Auc, Assert.Single(worse.Aucs).Candidate, 1e-12);
        Assert.Equal("v2", host.Current!.Version);
        Assert.Equal(["b", "c", "d"], host.Features);

        // Canaries that describe other customers for the serving model's features are the caller's error.
        var mismatched = Assert.Throws<ArgumentException>(() => host.TryDeploy(OnnxExporter.Export(v1), "v4", features =>
            features.Count == 2 ? CanaryFor(features) : new Canary(RowsFor(canaryCustomers, features),
                new CanaryHoldout(RowsFor(canaryCustomers, features), new Dictionary<string, bool[]> { ["repurchase_30d"] = [.. labels.Take(8)] }))));
        Assert.StartsWith("the canaries built for the candidate's and the serving model's features hold different numbers of holdout rows", mismatched.Message, StringComparison.Ordinal);
        Assert.Equal("v2", host.Current!.Version);
    }

    [Fact]
    public void First_deploy_with_a_holdout_reports_the_candidate_AUC_alone_on_a_fixed_host_too()
    {
        // Regression: the holdout-size check read the serving model's features when nothing was serving yet.
        var v1 = RandomModels.Mmoe(seed: 1);
        var rows = RandomModels.Rows(v1, 40, seed: 13);
        var labels = Enumerable.Range(0, 40).Select(i => i % 3 == 0).ToArray();
        var holdout = new CanaryHoldout(rows, new Dictionary<string, bool[]> { ["repurchase_30d"] = labels });
        using var host = new ModelHost(ServingModels.Features);

        var result = host.TryDeploy(OnnxExporter.Export(v1), "v1", new Canary(rows, holdout));

        Assert.True(result.Accepted, result.Message);
        var auc = Assert.Single(result.Aucs);
        Assert.Equal(ServingModels.PairwiseAuc(RepurchaseScores(v1, rows), labels), auc.Candidate, 1e-12);
        Assert.Null(auc.Serving);
    }

    [Fact]
    public void Hot_swap_under_load_between_models_over_other_features_never_fails_nor_mixes_a_call()
    {
        var weights = new Dictionary<string, ModelWeights>(StringComparer.Ordinal)
        {
            ["v1"] = Weights(["a", "b"], seed: 1),
            ["v2"] = Weights(["b", "c", "d"], seed: 2),
            ["v3"] = Weights(["d", "a", "c"], seed: 3),
        };
        var bytes = weights.ToDictionary(kv => kv.Key, kv => OnnxExporter.Export(kv.Value), StringComparer.Ordinal);
        const int rowCount = 64;
        var customers = Customers(rowCount, seed: 7);
        var expected = weights.ToDictionary(kv => kv.Key, kv => ServingModels.Expected(kv.Value, RowsFor(customers, kv.Value.Spec.Features)), StringComparer.Ordinal);
        var canaryCustomers = Customers(8, seed: 8);
        Canary CanaryFor(IReadOnlyList<string> features) => new(RowsFor(canaryCustomers, features));

        using var host = new ModelHost();
        Assert.True(host.TryDeploy(bytes["v1"], "v1", CanaryFor).Accepted);
        var served = new List<ServedModel> { host.Current! };

        var counts = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var problems = new ConcurrentQueue<string>();
        long calls = 0;
        bool stop = false;
        var workers = Enumerable.Range(0, 4).Select(w => new Thread(() =>
        {
            for (int i = w; !Volatile.Read(ref stop); i++)
            {
                int r = i % rowCount;
                try
                {
                    // The caller's side of the contract: build the row for the model the lease pinned.
                    using var lease = host.Lease();
                    var row = RowsFor(customers.AsSpan(r * Attributes.Length, Attributes.Length).ToArray(), lease.Model.Features);
                    var result = lease.Score(row);
                    if (result.Version != lease.Model.Version || !expected.TryGetValue(result.Version, out var byRow))
                    {
                        problems.Enqueue($"row {r}: result of {result.Version} from a lease of {lease.Model.Version}");
                    }
                    else if (ServingModels.Mismatch(result, byRow[r], r) is { } mismatch)
                    {
                        problems.Enqueue(mismatch);
                    }

                    counts.AddOrUpdate(result.Version, 1, (_, c) => c + 1);
                }
                catch (Exception ex)
                {
                    problems.Enqueue($"row {r}: {ex}");
                }

                Interlocked.Increment(ref calls);
            }
        })).ToList();
        workers.ForEach(t => t.Start());

        long Count(string version) => counts.GetValueOrDefault(version);
        void WaitFor(string version, long more)
        {
            long target = Count(version) + more;
            Assert.True(SpinWait.SpinUntil(() => Count(version) >= target || !problems.IsEmpty, Patience), $"{version} did not serve {more} more calls");
        }

        string[] order = ["v2", "v3", "v1"];
        int rollbacks = 0;
        try
        {
            WaitFor("v1", 500);
            for (int swap = 0; swap < 12; swap++)
            {
                var version = order[swap % order.Length];
                var deployed = host.TryDeploy(bytes[version], version, CanaryFor);
                Assert.True(deployed.Accepted, deployed.Message);
                served.Add(host.Current!);
                WaitFor(version, 300);
                if (swap % 4 == 3)
                {
                    var back = host.Rollback("swap " + swap);
                    rollbacks++;
                    WaitFor(back.Version, 300);
                }
            }
        }
        finally
        {
            Volatile.Write(ref stop, true);
            workers.ForEach(t => t.Join());
        }

        output.WriteLine($"{calls} calls across 12 swaps and {rollbacks} rollbacks: " + string.Join(", ", counts.OrderBy(kv => kv.Key, StringComparer.Ordinal).Select(kv => $"{kv.Key} {kv.Value}")));
        Assert.Empty(problems);
        Assert.True(calls >= 5000, $"only {calls} calls");
        Assert.Equal(calls, counts.Values.Sum());
        Assert.All(weights.Keys, v => Assert.True(Count(v) > 0, $"{v} never served"));

        // Every model the host let go of is disposed once the leases on it ended; the current and previous are not.
        var kept = new[] { host.Current, host.Previous }.OfType<ServedModel>().ToList();
        Assert.All(served.Where(m => !kept.Contains(m)), m => Assert.True(m.IsDisposed, $"{m} was replaced but not disposed"));
        Assert.All(kept, m => Assert.False(m.IsDisposed, $"{m} is still held by the host"));
    }

    /// <summary>A small MMoE over <paramref name="features"/> with the usual three tasks.</summary>
    private static ModelWeights Weights(IReadOnlyList<string> features, int seed) =>
        RandomModels.Build(new ModelSpec(features, 2, [8], [4], RandomModels.ThreeTasks), seed);

    /// <summary><paramref name="count"/> customers, one value per <see cref="Attributes"/> entry each.</summary>
    private static float[] Customers(int count, int seed)
    {
        var random = new Random(seed);
        return [.. Enumerable.Range(0, count * Attributes.Length).Select(_ => (float)((random.NextDouble() * 12) - 2))];
    }

    /// <summary>The customers' rows for a model taking <paramref name="features"/>, in that order.</summary>
    private static float[] RowsFor(float[] customers, IReadOnlyList<string> features)
    {
        var columns = features.Select(f => Array.IndexOf(Attributes, f)).ToArray();
        int count = customers.Length / Attributes.Length;
        var rows = new float[count * columns.Length];
        for (int r = 0; r < count; r++)
        {
            for (int i = 0; i < columns.Length; i++)
            {
                rows[(r * columns.Length) + i] = customers[(r * Attributes.Length) + columns[i]];
            }
        }

        return rows;
    }

    private static float[] RepurchaseScores(ModelWeights weights, float[] rows)
    {
        using var scorer = OnnxScorer.Load(OnnxExporter.Export(weights));
        return scorer.ScoreBatch(rows)[0];
    }

    /// <summary>Scores every customer through <paramref name="lease"/> with rows built from its model's features.</summary>
    private static void AssertScores(ModelLease lease, ModelWeights weights, float[] customers)
    {
        Assert.Equal(weights.Spec.Features, lease.Model.Features);
        var rows = RowsFor(customers, lease.Model.Features);
        var expected = ServingModels.Expected(weights, rows);
        int width = lease.Model.Features.Count;
        for (int r = 0; r < expected.Length; r++)
        {
            var result = lease.Score(rows.AsSpan(r * width, width));
            Assert.Equal(lease.Model.Version, result.Version);
            Assert.Same(lease.Model, result.Model);
            for (int k = 0; k < expected[r].Length; k++)
            {
                Assert.Equal(expected[r][k], result.Values[k], 1e-5);
            }
        }
    }
}
