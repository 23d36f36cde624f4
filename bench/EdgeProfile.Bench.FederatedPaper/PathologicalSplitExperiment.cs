using System.Diagnostics;
using System.Globalization;
using System.Text;
using static TorchSharp.torch;

namespace EdgeProfile.Bench.FederatedPaper;

/// <summary>
/// (B) McMahan et al., "Communication-Efficient Learning of Deep Networks from Decentralized Data" (AISTATS 2017), §3,
/// on Fashion-MNIST instead of MNIST: 100 clients; IID = a seeded shuffle into 100 × 600 rows; pathological non-IID =
/// rows sorted by label, cut into 200 shards of 300, two random shards per client; C = 0.1 (10 clients a round),
/// E = 1, B = 10, the 2NN, plain SGD (no momentum, no weight decay). FedProx (Li et al., MLSys 2020) is the same with
/// (μ/2)·||w − w_global||² in the clients' loss. The ceiling is centralised SGD on the same model, lr and batch.
/// Reported: the first evaluated round at which the global model's test accuracy reaches each target.
/// </summary>
internal static class PathologicalSplitExperiment
{
    public static readonly double[] Targets = [0.80, 0.85];

    public sealed record Run(string Split, string Algorithm, int?[] RoundsToTarget, double Best, int BestRound, double Last, int RoundsDone, int MaxRounds, double SecondsPerRound);

    public sealed record Result(IReadOnlyList<Run> Runs, Run Central, Settings Settings, int Clients, int PerRound, TimeSpan Elapsed)
    {
        public string Table()
        {
            var s = Settings;
            var sb = new StringBuilder();
            sb.AppendLine($"(B) McMahan et al. pathological split, Fashion-MNIST, {Clients} clients, C = 0.1 ({PerRound}/round), E = 1, B = 10, 2NN, "
                + $"SGD lr {s.LearningRateB.ToString(CultureInfo.InvariantCulture)} momentum {s.MomentumB.ToString(CultureInfo.InvariantCulture)}, FedProx μ {s.Mu.ToString(CultureInfo.InvariantCulture)}, "
                + $"evaluated every {s.EvalEvery} round(s), seed {s.Seed}");
            sb.AppendLine($"| split | algorithm | rounds to {Targets[0]:P0} | rounds to {Targets[1]:P0} | best accuracy (round) | last | rounds run | s/round |");
            sb.AppendLine("|---|---|---|---|---|---|---|---|");
            foreach (var r in Runs)
            {
                sb.AppendLine($"| {r.Split} | {r.Algorithm} | {Reach(r, 0)} | {Reach(r, 1)} | {r.Best:P2} ({r.BestRound}) | {r.Last:P2} | {r.RoundsDone} | {r.SecondsPerRound:F2} |");
            }

            var c = Central;
            sb.AppendLine($"| all rows | centralised SGD (epochs) | {Reach(c, 0, "epoch")} | {Reach(c, 1, "epoch")} | {c.Best:P2} (epoch {c.BestRound}) | {c.Last:P2} | {c.RoundsDone} epochs | {c.SecondsPerRound:F1} s/epoch |");
            return sb.ToString();
        }

        private static string Reach(Run r, int t, string unit = "") =>
            r.RoundsToTarget[t] is { } k ? (unit.Length > 0 ? $"{unit} {k}" : k.ToString(CultureInfo.InvariantCulture)) : $"not reached in {r.RoundsDone}";
    }

    public static Result RunAll(Tensors data, Settings s)
    {
        var clock = Stopwatch.StartNew();
        var clients = s.Parties ?? 100;
        var maxRounds = s.Rounds ?? (s.Quick ? 20 : 300);
        var perRound = Math.Max(1, (int)Math.Round(0.1 * clients));
        var images = data.TrainImages.view(data.TrainCount, FashionMnist.Pixels);
        var testImages = data.TestImages.view(data.TestImages.shape[0], FashionMnist.Pixels);
        var splits = new (string Name, Party[] Parties)[] { ("IID", Iid(data.TrainCount, clients, s.Seed)), ("non-IID", Pathological(data.TrainLabelArray, clients, s.Seed)) };
        Console.WriteLine($"(B) {clients} clients x {data.TrainCount / clients} rows; non-IID labels per client: "
            + $"{splits[1].Parties.Select(p => p.Rows.Select(r => data.TrainLabelArray[r]).Distinct().Count()).GroupBy(k => k).OrderBy(g => g.Key).Select(g => $"{g.Count()} with {g.Key}").Aggregate((a, b) => a + ", " + b)}");

        var runs = new List<Run>();
        foreach (var (name, parties) in splits)
        {
            foreach (var (algorithm, mu) in new[] { ("FedAvg", 0.0), ("FedProx", s.Mu) })
            {
                var local = new LocalTraining(s.LearningRateB, s.MomentumB, 0, 1, 10, mu);
                runs.Add(Federated(images, data.TrainLabels, testImages, data.TestLabels, parties, name, algorithm, local, perRound, maxRounds, s));
            }
        }

        var central = Central(images, data.TrainLabels, testImages, data.TestLabels, data.TrainCount, s);
        return new Result(runs, central, s, clients, perRound, clock.Elapsed);
    }

    private static Run Federated(Tensor images, Tensor labels, Tensor testImages, Tensor testLabels, Party[] parties, string split, string algorithm,
        LocalTraining local, int perRound, int maxRounds, Settings s)
    {
        var clock = Stopwatch.StartNew();
        manual_seed(s.Seed);  // the same initial weights in every run
        var random = new Random(s.Seed + 1);
        using var model = new TwoLayerNet();
        var global = ParameterVector.Flatten(model);
        using var server = new FederatedServer(() => new TwoLayerNet(), s.Workers, images, labels, local);
        var reached = new int?[Targets.Length];
        var (best, bestRound, last, done) = (0.0, 0, 0.0, 0);
        for (var r = 1; r <= maxRounds; r++)
        {
            var order = Enumerable.Range(0, parties.Length).ToArray();
            random.Shuffle(order);
            var selected = order.Take(perRound).Select(i => parties[i]).ToArray();
            global = server.Round(global, selected, random);
            done = r;
            if (r % s.EvalEvery != 0 && r != maxRounds)
            {
                continue;
            }

            ParameterVector.Load(model, global);
            last = Evaluator.Accuracy(model, testImages, testLabels);
            if (last > best)
            {
                (best, bestRound) = (last, r);
            }

            for (var t = 0; t < Targets.Length; t++)
            {
                reached[t] ??= last >= Targets[t] ? r : null;
            }

            Console.WriteLine($"  B {split} {algorithm} round {r,3}/{maxRounds}: accuracy {last:P2}, train loss {server.LastLoss:F4}, {clock.Elapsed.TotalSeconds:F0} s");
            if (!s.RunAllRounds && reached.All(k => k is not null))
            {
                break;
            }
        }

        return new Run(split, algorithm, reached, best, bestRound, last, done, maxRounds, clock.Elapsed.TotalSeconds / Math.Max(1, done));
    }

    private static Run Central(Tensor images, Tensor labels, Tensor testImages, Tensor testLabels, int count, Settings s)
    {
        var clock = Stopwatch.StartNew();
        manual_seed(s.Seed);
        var random = new Random(s.Seed + 1);
        var epochs = s.Quick ? 1 : s.CentralEpochs;
        using var model = new TwoLayerNet();
        var all = new Party("central", Enumerable.Range(0, count).ToArray());
        var local = new LocalTraining(s.LearningRateB, s.MomentumB, 0, 1, 10);
        var reached = new int?[Targets.Length];
        var (best, bestEpoch, last) = (0.0, 0, 0.0);
        for (var e = 1; e <= epochs; e++)
        {
            var loss = ClientTrainer.Train(model, images, labels, all, local, random, (ulong)s.Seed);
            last = Evaluator.Accuracy(model, testImages, testLabels);
            if (last > best)
            {
                (best, bestEpoch) = (last, e);
            }

            for (var t = 0; t < Targets.Length; t++)
            {
                reached[t] ??= last >= Targets[t] ? e : null;
            }

            Console.WriteLine($"  B centralised epoch {e}/{epochs}: accuracy {last:P2}, train loss {loss:F4}, {clock.Elapsed.TotalSeconds:F0} s");
        }

        return new Run("all rows", "centralised", reached, best, bestEpoch, last, epochs, epochs, clock.Elapsed.TotalSeconds / epochs);
    }

    /// <summary>A seeded shuffle cut into <paramref name="clients"/> equal parts.</summary>
    public static Party[] Iid(int count, int clients, int seed)
    {
        var rows = Enumerable.Range(0, count).ToArray();
        new Random(seed).Shuffle(rows);
        var size = count / clients;
        return [.. Enumerable.Range(0, clients).Select(k => new Party($"client-{k}", rows[(k * size)..((k + 1) * size)]))];
    }

    /// <summary>Rows sorted by label, cut into 2·<paramref name="clients"/> shards, two random shards per client.</summary>
    public static Party[] Pathological(long[] labels, int clients, int seed)
    {
        var sorted = Enumerable.Range(0, labels.Length).OrderBy(i => labels[i]).ThenBy(i => i).ToArray();
        var shards = 2 * clients;
        var shardSize = labels.Length / shards;
        var shardOrder = Enumerable.Range(0, shards).ToArray();
        new Random(seed).Shuffle(shardOrder);
        return [.. Enumerable.Range(0, clients).Select(k => new Party($"client-{k}",
            [.. sorted.AsSpan(shardOrder[2 * k] * shardSize, shardSize).ToArray(), .. sorted.AsSpan(shardOrder[(2 * k) + 1] * shardSize, shardSize).ToArray()]))];
    }
}
