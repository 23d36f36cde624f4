using System.Collections.Concurrent;
using EdgeProfile.Models.Onnx;
using EdgeProfile.Models.Scoring;
using EdgeProfile.Models.Serving;
using Xunit.Abstractions;

namespace EdgeProfile.Models.Tests;

public sealed class ServingTests(ITestOutputHelper output) : IDisposable
{
    private const int Width = RandomModels.Features;
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);
    private readonly DirectoryInfo dir = Directory.CreateTempSubdirectory("edgeprofile-serving-");

    public void Dispose() => dir.Delete(recursive: true);

    [Fact]
    public void Hot_swap_under_load_never_mixes_versions_nor_fails_a_call()
    {
        var v1 = RandomModels.Mmoe(seed: 1);
        var v2 = RandomModels.Mmoe(seed: 2);
        const int rowCount = 64;
        var rows = RandomModels.Rows(v1, rowCount, seed: 3);
        var expected = new Dictionary<string, double[][]>
        {
            ["v1"] = ServingModels.Expected(v1, rows),
            ["v2"] = ServingModels.Expected(v2, rows),
        };
        for (int r = 0; r < rowCount; r++)
        {
            double gap = expected["v1"][r].Zip(expected["v2"][r], (a, b) => Math.Abs(a - b)).Max();
            Assert.True(gap > 1e-3, $"row {r}: v1 and v2 agree within {gap:G3}, so a mixed result could pass");
        }

        var bytes1 = OnnxExporter.Export(v1);
        var bytes2 = OnnxExporter.Export(v2);
        using var host = new ModelHost(ServingModels.Features);
        Assert.True(host.TryDeploy(bytes1, "v1", ServingModels.Canary()).Accepted);
        var first = host.Current!;

        var counts = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
        var problems = new ConcurrentQueue<string>();
        long calls = 0;
        bool stop = false;
        var workers = Enumerable.Range(0, 3).Select(w => new Thread(() =>
        {
            for (int i = w; !Volatile.Read(ref stop); i++)
            {
                int r = i % rowCount;
                try
                {
                    var result = host.Score(rows.AsSpan(r * Width, Width));
                    if (ServingModels.Mismatch(result, expected[result.Version][r], r) is { } mismatch)
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

        var replaced = new List<ServedModel>();
        try
        {
            WaitFor("v1", 1000);
            for (int cycle = 0; cycle < 3; cycle++)
            {
                var deployed = host.TryDeploy(bytes2, "v2", ServingModels.Canary());
                Assert.True(deployed.Accepted, deployed.Message);
                replaced.Add(host.Current!);
                WaitFor("v2", 1000);
                Assert.Same(first, host.Rollback("cycle " + cycle));
                WaitFor("v1", 1000);
            }
        }
        finally
        {
            Volatile.Write(ref stop, true);
            workers.ForEach(t => t.Join());
        }

        output.WriteLine($"{calls} calls across 3 swaps and rollbacks: v1 {Count("v1")}, v2 {Count("v2")}");

        Assert.Empty(problems);
        Assert.Equal(calls, Count("v1") + Count("v2"));
        Assert.All(replaced, m => Assert.True(m.IsDisposed, $"{m} was rolled back but not disposed"));
        Assert.False(first.IsDisposed);
        Assert.Equal(
            [ModelEvent.Deployed, ModelEvent.Deployed, ModelEvent.RolledBack, ModelEvent.Deployed, ModelEvent.RolledBack, ModelEvent.Deployed, ModelEvent.RolledBack],
            host.History.Select(h => h.Event));
    }

    [Fact]
    public void Corrupt_truncated_garbage_and_missing_models_are_refused_and_the_old_one_keeps_serving()
    {
        var (host, v1Row) = HostServingV1();
        using (host)
        {
            var good = OnnxExporter.Export(RandomModels.Mmoe(seed: 2));
            var garbage = new byte[4096];
            new Random(7).NextBytes(garbage);
            var flipped = (byte[])good.Clone();
            for (int i = 0; i < 64; i++)
            {
                flipped[i] ^= 0x5A;
            }

            string truncatedPath = Path.Combine(dir.FullName, "v2.onnx");
            File.WriteAllBytes(truncatedPath, good[..(good.Length / 2)]);
            string missingPath = Path.Combine(dir.FullName, "missing.onnx");

            var refused = new[]
            {
                host.TryDeploy(good[..(good.Length / 2)], "v2", ServingModels.Canary()),
                host.TryDeploy(garbage, "v2", ServingModels.Canary()),
                host.TryDeploy(flipped, "v2", ServingModels.Canary()),
                host.TryDeploy([], "v2", ServingModels.Canary()),
                host.TryDeploy(truncatedPath, "v2", ServingModels.Canary()),
                host.TryDeploy(missingPath, "v2", ServingModels.Canary()),
            };

            foreach (var result in refused)
            {
                output.WriteLine(result.Message);
                Assert.False(result.Accepted);
                Assert.Equal(DeployFailure.LoadError, result.Failure);
                Assert.StartsWith("model v2 refused: could not load it: ", result.Message, StringComparison.Ordinal);
            }

            Assert.Contains("model v2: not a valid ONNX model", refused[0].Message, StringComparison.Ordinal);
            Assert.Equal("model v2 refused: could not load it: model v2: the model is empty (0 bytes)", refused[3].Message);
            Assert.Contains($"{truncatedPath}: not a valid ONNX model", refused[4].Message, StringComparison.Ordinal);
            Assert.Contains(missingPath, refused[5].Message, StringComparison.Ordinal);
            AssertStillServing(host, "v1", v1Row);
            Assert.Null(host.Previous);
            Assert.Equal(6, host.History.Count(h => h.Event == ModelEvent.Refused && h.Version == "v2"));
        }
    }

    [Fact]
    public void Models_for_another_feature_width_or_names_are_refused_naming_the_difference()
    {
        var (host, v1Row) = HostServingV1();
        using (host)
        {
            var narrow = RandomModels.Build(new ModelSpec(RandomModels.FeatureNames(19), 3, [16], [8], RandomModels.ThreeTasks), seed: 2);
            var swappedNames = RandomModels.FeatureNames(20).ToArray();
            (swappedNames[4], swappedNames[5]) = (swappedNames[5], swappedNames[4]);
            var renamed = RandomModels.Build(new ModelSpec(swappedNames, 3, [16], [8], RandomModels.ThreeTasks), seed: 2);

            var wide = host.TryDeploy(OnnxExporter.Export(narrow), "v2", ServingModels.Canary());
            var names = host.TryDeploy(OnnxExporter.Export(renamed), "v3", ServingModels.Canary());

            Assert.Equal(DeployFailure.ShapeMismatch, wide.Failure);
            Assert.Equal("model v2 refused: its input has width 19, but the host expects 20 features", wide.Message);
            Assert.Equal(DeployFailure.ShapeMismatch, names.Failure);
            Assert.Equal("model v3 refused: feature 4 is 'f05' in the model but 'f04' in the host", names.Message);
            AssertStillServing(host, "v1", v1Row);
        }
    }

    [Fact]
    public void Model_emitting_NaN_is_refused_naming_the_task_and_row()
    {
        var (host, v1Row) = HostServingV1();
        using (host)
        {
            var churn = RandomModels.SingleTaskMlp(seed: 3);
            var result = host.TryDeploy(ServingModels.WithOutputBias(churn, task: 0, float.NaN), "v7", ServingModels.Canary());

            Assert.False(result.Accepted);
            Assert.Equal(DeployFailure.NonFiniteOutput, result.Failure);
            Assert.Equal("model v7 refused: task churn_90d produced NaN on canary row 0", result.Message);
            AssertStillServing(host, "v1", v1Row);

            // Multi-label outputs are named by position; an infinite bias on a regression head stays infinite.
            var multi = host.TryDeploy(ServingModels.WithOutputBias(RandomModels.Mmoe(seed: 2), task: 2, float.NaN), "v8", ServingModels.Canary());
            Assert.Equal("model v8 refused: task category_propensity (output 0 of 4) produced NaN on canary row 0", multi.Message);
            var infinite = host.TryDeploy(ServingModels.WithOutputBias(RandomModels.Mmoe(seed: 2), task: 1, float.NegativeInfinity), "v9", ServingModels.Canary());
            Assert.Equal("model v9 refused: task ltv_90d produced -Infinity on canary row 0", infinite.Message);
            AssertStillServing(host, "v1", v1Row);
            Assert.Equal(3, host.History.Count(h => h.Event == ModelEvent.Refused));
        }
    }

    [Fact]
    public void Model_overflowing_to_infinity_on_some_rows_is_refused_naming_the_first_such_row()
    {
        var (host, v1Row) = HostServingV1();
        using (host)
        {
            // ltv_90d is a regression head (no sigmoid), and its ReLU inputs are >= 0: huge positive weights overflow
            // to +inf exactly on the rows whose hidden activations are large enough. Rows at the mean keep them small.
            var weights = ServingModels.WithOutputLayer(RandomModels.Mmoe(seed: 2), task: 1, w: float.MaxValue / 8, b: 0, constant: true);
            var mean = weights.Mean;
            var rows = mean.Concat(mean).Concat(RandomModels.Rows(weights, 30, seed: 5)).ToArray();
            var expected = ServingModels.Expected(weights, rows);
            int firstInfinite = Array.FindIndex(expected, e => float.IsInfinity((float)e[1]));
            Assert.True(firstInfinite >= 2, $"first overflowing row is {firstInfinite}; the test needs a later one");

            var result = host.TryDeploy(OnnxExporter.Export(weights), "v2", new Canary(rows));

            output.WriteLine(result.Message);
            Assert.Equal(DeployFailure.NonFiniteOutput, result.Failure);
            Assert.Equal($"model v2 refused: task ltv_90d produced +Infinity on canary row {firstInfinite}", result.Message);
            AssertStillServing(host, "v1", v1Row);
        }
    }

    [Fact]
    public void Candidate_whose_AUC_drops_on_the_holdout_is_refused_with_both_figures()
    {
        var v1 = RandomModels.Mmoe(seed: 1);
        var holdout = HoldoutWhereV1IsGood(v1, out var v1Scores);
        var labels = holdout.Labels["repurchase_30d"];
        var (host, v1Row) = HostServingV1();
        using (host)
        {
            var negated = ServingModels.WithOutputLayer(v1, task: 0, w: -1, b: -1);
            var badBytes = OnnxExporter.Export(negated);
            using var bad = OnnxScorer.Load(badBytes);
            double goodAuc = ServingModels.PairwiseAuc(v1Scores, labels);
            double badAuc = ServingModels.PairwiseAuc(bad.ScoreBatch(holdout.Rows)[0], labels);
            output.WriteLine($"holdout AUC: v1 {goodAuc:0.0000}, negated {badAuc:0.0000}");
            Assert.True(goodAuc > 0.8, $"v1 should be good on its holdout, AUC {goodAuc}");

            var result = host.TryDeploy(badBytes, "v2", new Canary(RandomModels.Rows(v1, 8, seed: 4), holdout));

            output.WriteLine(result.Message);
            Assert.Equal(DeployFailure.AucDrop, result.Failure);
            Assert.Equal(
                string.Create(System.Globalization.CultureInfo.InvariantCulture, $"model v2 refused: task repurchase_30d AUC {badAuc:0.0000} on the holdout (400 rows) vs {goodAuc:0.0000} for serving model v1: a drop of {goodAuc - badAuc:0.0000}, more than the allowed 0.0100"),
                result.Message);
            var auc = Assert.Single(result.Aucs);
            Assert.Equal(badAuc, auc.Candidate, 1e-12);
            Assert.Equal(goodAuc, auc.Serving!.Value, 1e-12);
            AssertStillServing(host, "v1", v1Row);

            // The same model under a new version loses nothing, so it passes.
            var same = host.TryDeploy(OnnxExporter.Export(v1), "v1.1", new Canary(RandomModels.Rows(v1, 8, seed: 4), holdout));
            output.WriteLine(same.Message);
            Assert.True(same.Accepted, same.Message);
            Assert.Equal(
                string.Create(System.Globalization.CultureInfo.InvariantCulture, $"model v1.1 deployed, replacing v1: 8 canary rows finite; repurchase_30d AUC {goodAuc:0.0000} (v1: {goodAuc:0.0000})"),
                same.Message);
        }
    }

    [Fact]
    public void Holdout_labelling_a_task_the_candidate_lacks_is_refused()
    {
        var v1 = RandomModels.Mmoe(seed: 1);
        var holdout = HoldoutWhereV1IsGood(v1, out _);
        var (host, _) = HostServingV1();
        using (host)
        {
            var churnOnly = OnnxExporter.Export(RandomModels.SingleTaskMlp(seed: 3));
            var result = host.TryDeploy(churnOnly, "v2", new Canary(RandomModels.Rows(v1, 4, seed: 4), holdout));

            Assert.Equal(DeployFailure.ShapeMismatch, result.Failure);
            Assert.Equal("model v2 refused: the holdout labels task repurchase_30d, but the model has no output repurchase_30d of width 1", result.Message);
        }
    }

    [Fact]
    public void Rollback_returns_to_the_previous_model_once_and_then_is_a_clear_error()
    {
        var clock = new ManualClock(new DateTimeOffset(2026, 11, 30, 1, 0, 0, TimeSpan.Zero));
        var v1 = RandomModels.Mmoe(seed: 1);
        var v2 = RandomModels.Mmoe(seed: 2);
        var row = RandomModels.Rows(v1, 1, seed: 8);
        using var host = new ModelHost(ServingModels.Features, new ModelHostOptions { HistoryCapacity = 4 }, clock);

        var none = Assert.Throws<InvalidOperationException>(() => host.Rollback());
        Assert.Equal("cannot roll back: no model has been deployed", none.Message);
        Assert.Equal("no model is deployed yet", Assert.Throws<InvalidOperationException>(() => host.Score(row)).Message);

        Assert.True(host.TryDeploy(OnnxExporter.Export(v1), "v1", ServingModels.Canary()).Accepted);
        var onlyOne = Assert.Throws<InvalidOperationException>(() => host.Rollback());
        Assert.Equal("cannot roll back: model v1 is serving and there is no previous model to return to", onlyOne.Message);

        clock.Now += TimeSpan.FromMinutes(1);
        Assert.Equal(DeployFailure.DuplicateVersion, host.TryDeploy(OnnxExporter.Export(v2), "v1", ServingModels.Canary()).Failure);
        var deployed = host.TryDeploy(OnnxExporter.Export(v2), "v2", ServingModels.Canary());
        Assert.Equal("model v2 deployed, replacing v1: 16 canary rows finite", deployed.Message);
        var servingV2 = host.Current!;
        Assert.Equal("v1", host.Previous!.Version);
        AssertStillServing(host, "v2", ServingModels.Expected(v2, row)[0]);

        clock.Now += TimeSpan.FromMinutes(1);
        var back = host.Rollback("ops: conversion fell");
        Assert.Equal("v1", back.Version);
        Assert.Null(host.Previous);
        Assert.True(servingV2.IsDisposed);
        AssertStillServing(host, "v1", ServingModels.Expected(v1, row)[0]);
        Assert.Throws<InvalidOperationException>(() => host.Rollback());

        // Capacity 4 keeps the last four of: deployed v1, refused v1 (duplicate), deployed v2, rolled back v2.
        Assert.Equal(
            [
                new(clock.Now - TimeSpan.FromMinutes(2), ModelEvent.Deployed, "v1", "model v1 deployed: 16 canary rows finite"),
                new(clock.Now - TimeSpan.FromMinutes(1), ModelEvent.Refused, "v1", "model v1 refused: version v1 is already serving"),
                new(clock.Now - TimeSpan.FromMinutes(1), ModelEvent.Deployed, "v2", "model v2 deployed, replacing v1: 16 canary rows finite"),
                new ModelHistoryEntry(clock.Now, ModelEvent.RolledBack, "v2", "model v2 rolled back; model v1 serves again: ops: conversion fell"),
            ],
            host.History);
    }

    [Fact]
    public void Disposing_the_host_disposes_its_models_only_after_in_flight_calls_and_leases()
    {
        var v1 = RandomModels.Mmoe(seed: 1);
        var v2 = RandomModels.Mmoe(seed: 2);
        var rows = RandomModels.Rows(v1, 32, seed: 9);
        var expected = ServingModels.Expected(v2, rows);
        var host = new ModelHost(ServingModels.Features);
        Assert.True(host.TryDeploy(OnnxExporter.Export(v1), "v1", ServingModels.Canary()).Accepted);
        Assert.True(host.TryDeploy(OnnxExporter.Export(v2), "v2", ServingModels.Canary()).Accepted);
        var previous = host.Previous!;
        var serving = host.Current!;
        var lease = host.Lease();

        var problems = new ConcurrentQueue<string>();
        long calls = 0;
        long disposedCalls = 0;
        var workers = Enumerable.Range(0, 3).Select(w => new Thread(() =>
        {
            for (int i = w; ; i++)
            {
                int r = i % 32;
                try
                {
                    var result = host.Score(rows.AsSpan(r * Width, Width));
                    if (result.Version != "v2" || Math.Abs(result.Values[0] - expected[r][0]) > 1e-5)
                    {
                        problems.Enqueue($"row {r}: {result.Version} gave {result.Values[0]}, expected v2 {expected[r][0]}");
                    }

                    Interlocked.Increment(ref calls);
                }
                catch (ObjectDisposedException ex) when (ex.ObjectName == typeof(ModelHost).FullName)
                {
                    Interlocked.Increment(ref disposedCalls);
                    return;
                }
                catch (Exception ex)
                {
                    problems.Enqueue($"row {r}: {ex}");
                    return;
                }
            }
        })).ToList();
        workers.ForEach(t => t.Start());
        bool warmedUp;
        try
        {
            warmedUp = SpinWait.SpinUntil(() => Interlocked.Read(ref calls) >= 2000 || !problems.IsEmpty, Patience);
        }
        finally
        {
            // Disposing is also what stops the workers.
            host.Dispose();
            workers.ForEach(t => t.Join());
        }

        Assert.True(warmedUp, "workers did not reach 2000 calls");
        output.WriteLine($"{calls} calls before dispose; {disposedCalls} workers then saw ObjectDisposedException");

        Assert.Empty(problems);
        Assert.Equal(3, disposedCalls);
        Assert.True(previous.IsDisposed);
        Assert.False(serving.IsDisposed, "the lease still holds v2");
        for (int r = 0; r < 32; r++)
        {
            Assert.Equal(expected[r][0], lease.Score(rows.AsSpan(r * Width, Width)).Output("repurchase_30d")[0], 1e-5);
        }

        lease.Dispose();
        lease.Dispose();
        Assert.True(serving.IsDisposed);
        Assert.Throws<ObjectDisposedException>(() => lease.Score(rows.AsSpan(0, Width)));
        Assert.Throws<ObjectDisposedException>(() => host.Score(rows.AsSpan(0, Width)));
        Assert.Throws<ObjectDisposedException>(() => host.TryDeploy(OnnxExporter.Export(v1), "v3", ServingModels.Canary()));
        Assert.Null(host.Current);
        host.Dispose();
    }

    [Fact]
    public void Lease_keeps_its_version_across_swaps_and_results_name_outputs()
    {
        var v1 = RandomModels.Mmoe(seed: 1);
        var rows = RandomModels.Rows(v1, 4, seed: 10);
        var (host, _) = HostServingV1();
        using (host)
        {
            using var lease = host.Lease();
            Assert.True(host.TryDeploy(OnnxExporter.Export(RandomModels.Mmoe(seed: 2)), "v2", ServingModels.Canary()).Accepted);
            Assert.True(host.TryDeploy(OnnxExporter.Export(RandomModels.Mmoe(seed: 3)), "v3", ServingModels.Canary()).Accepted);

            Assert.Equal("v3", host.Score(rows.AsSpan(0, Width)).Version);
            Assert.Equal("v1", lease.Model.Version);
            Assert.False(lease.Model.IsDisposed);
            var expected = ServingModels.Expected(v1, rows);
            var batch = lease.ScoreBatch(rows);
            var single = lease.Score(rows.AsSpan(Width, Width));
            Assert.Equal(expected[1][0], single.Output("repurchase_30d")[0], 1e-5);
            Assert.Equal(expected[1][1], single.Output(1)[0], 1e-5);
            Assert.Equal(expected[1][2..6].Select(v => (float)v), single.Output("category_propensity").ToArray(), (a, b) => Math.Abs(a - b) < 1e-5);
            Assert.Equal(expected[3][0], batch[0][3], 1e-5);
            Assert.Equal(["repurchase_30d", "ltv_90d", "category_propensity"], single.Outputs.Select(o => o.Name));
            var missing = Assert.Throws<KeyNotFoundException>(() => single.Output("churn_90d"));
            Assert.Equal("model v1 has no output 'churn_90d'; it has [repurchase_30d, ltv_90d, category_propensity]", missing.Message);
        }
    }

    [Fact]
    public void Canary_rows_that_do_not_fit_the_features_are_a_caller_error()
    {
        var (host, _) = HostServingV1();
        using (host)
        {
            var bytes = OnnxExporter.Export(RandomModels.Mmoe(seed: 2));
            var ex = Assert.Throws<ArgumentException>(() => host.TryDeploy(bytes, "v2", new Canary(new float[21])));
            Assert.StartsWith("canary rows hold 21 values, not a positive multiple of the host's 20 features", ex.Message, StringComparison.Ordinal);
            var labels = new Dictionary<string, bool[]> { ["repurchase_30d"] = [true, false, true] };
            ex = Assert.Throws<ArgumentException>(() => host.TryDeploy(bytes, "v2", new Canary(new float[20], new CanaryHoldout(new float[40], labels))));
            Assert.StartsWith("holdout has 2 rows but 3 labels for task repurchase_30d", ex.Message, StringComparison.Ordinal);
            Assert.Throws<ArgumentException>(() => new CanaryHoldout(new float[40], new Dictionary<string, bool[]> { ["repurchase_30d"] = [true, true] }));
            Assert.Throws<ArgumentOutOfRangeException>(() => new ModelHost(ServingModels.Features, new ModelHostOptions { MaxAucDrop = -0.1 }));
            Assert.Equal("v1", host.Current!.Version);
            Assert.Single(host.History);
        }
    }

    private static (ModelHost Host, double[] V1Row) HostServingV1()
    {
        var v1 = RandomModels.Mmoe(seed: 1);
        var host = new ModelHost(ServingModels.Features);
        var result = host.TryDeploy(OnnxExporter.Export(v1), "v1", ServingModels.Canary());
        Assert.True(result.Accepted, result.Message);
        return (host, ServingModels.Expected(v1, RandomModels.Rows(v1, 1, seed: 8))[0]);
    }

    /// <summary>Scores the row <see cref="HostServingV1"/>'s expectation is for and checks version and values.</summary>
    private static void AssertStillServing(ModelHost host, string version, double[] expected)
    {
        var result = host.Score(RandomModels.Rows(RandomModels.Mmoe(seed: 1), 1, seed: 8));
        Assert.Equal(version, result.Version);
        for (int k = 0; k < expected.Length; k++)
        {
            Assert.Equal(expected[k], result.Values[k], 1e-5);
        }
    }

    /// <summary>400 rows labelled by v1's repurchase probability (above its median), with 10% of labels flipped.</summary>
    private static CanaryHoldout HoldoutWhereV1IsGood(ModelWeights v1, out float[] v1Scores)
    {
        var rows = RandomModels.Rows(v1, 400, seed: 13);
        using var scorer = OnnxScorer.Load(OnnxExporter.Export(v1));
        v1Scores = scorer.ScoreBatch(rows)[0];
        float median = v1Scores.Order().ElementAt(200);
        var random = new Random(14);
        var labels = v1Scores.Select(p => (p > median) ^ (random.NextDouble() < 0.1)).ToArray();
        return new CanaryHoldout(rows, new Dictionary<string, bool[]> { ["repurchase_30d"] = labels });
    }

    private sealed class ManualClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
