using EdgeProfile.Federated.Aggregation;

namespace EdgeProfile.Federated.Tests;

/// <summary>Outcome of one federated run: accuracy on clean test rows and backdoor success on triggered ones.</summary>
internal sealed record PoisoningOutcome(string Rule, double MainAccuracy, double BackdoorSuccess, int AttackerSelections, int Rounds);

/// <summary>
/// A small federated job on Fashion-MNIST with a multinomial logistic regression (196 pooled pixels + bias → 10
/// classes, 1,970 parameters) trained by plain minibatch SGD on every client. Some clients are attackers in the manner
/// of Bagdasaryan et al. (AISTATS 2020, "How to backdoor federated learning"): they train on their rows plus triggered
/// copies relabelled to the target class, then send their delta boosted by γ = clients / attackers (model replacement).
/// Everything is seeded; runs are deterministic.
/// </summary>
internal sealed class PoisoningExperiment
{
    public const int Clients = 10;
    public const int RowsPerClient = 600;
    public const int TestRows = 2000;
    public const int Classes = 10;
    public const int Width = PoisoningData.Features + 1;
    public const int Parameters = Classes * Width;

    private readonly float[][] _trainX;
    private readonly int[] _trainY;
    private readonly float[][] _triggeredTrainX;
    private readonly float[][] _testX;
    private readonly int[] _testY;
    private readonly float[][] _triggeredTestX;

    public PoisoningExperiment(
        int rounds,
        int localEpochs,
        int batchSize,
        double learningRate,
        double decay,
        int attackers,
        int seed,
        int targetClass)
    {
        TargetClass = targetClass;
        Rounds = rounds;
        LocalEpochs = localEpochs;
        BatchSize = batchSize;
        LearningRate = learningRate;
        Decay = decay;
        Attackers = attackers;
        Boost = attackers == 0 ? 1 : (double)Clients / attackers;
        Seed = seed;
        var train = PoisoningData.Load("train", Clients * RowsPerClient);
        var test = PoisoningData.Load("t10k", TestRows);
        // IID split of the first 6,000 training rows, shuffled by the seed: client k holds rows k·600 … k·600 + 599.
        var order = Enumerable.Range(0, train.Count).ToArray();
        new Random(seed).Shuffle(order);
        _trainX = order.Select(i => PoisoningData.Pool(train.Images[i])).ToArray();
        _trainY = order.Select(i => (int)train.Labels[i]).ToArray();
        // Every training row also triggered; attackers use those whose class is not the target.
        _triggeredTrainX = order.Select(i => PoisoningData.Pool(PoisoningData.WithTrigger(train.Images[i]))).ToArray();
        _testX = Enumerable.Range(0, TestRows).Select(i => PoisoningData.Pool(test.Images[i])).ToArray();
        _testY = test.Labels.Select(l => (int)l).ToArray();
        _triggeredTestX = Enumerable.Range(0, TestRows)
            .Where(i => _testY[i] != TargetClass)
            .Select(i => PoisoningData.Pool(PoisoningData.WithTrigger(test.Images[i])))
            .ToArray();
    }

    /// <summary>The class the backdoor trigger is meant to force.</summary>
    public int TargetClass { get; }

    public int Rounds { get; }

    public int LocalEpochs { get; }

    public int BatchSize { get; }

    public double LearningRate { get; }

    public int Attackers { get; }

    /// <summary>Local learning rate of round r: η / (1 + decay · r).</summary>
    public double Decay { get; }

    public double RoundLearningRate(int round) => LearningRate / (1 + (Decay * round));

    public double Boost { get; }

    public int Seed { get; }

    /// <summary>Attackers are spread over the client list (clients 2 and 7 of 10 for two), not its first entries.</summary>
    public static bool IsAttacker(int client, int attackers)
    {
        if (attackers <= 0)
        {
            return false;
        }
        var stride = Clients / attackers;
        return client % stride == stride / 2 && client / stride < attackers;
    }

    // Not HashCode.Combine: it is randomised per process, and these runs must repeat exactly.
    private int ClientSeed(int round, int client) => (Seed * 1_000_003) + (round * 1_009) + client;

    /// <summary>Runs the job with <paramref name="combiner"/> and server SGD (η = 1) and evaluates the final model.</summary>
    public PoisoningOutcome Run(IUpdateCombiner combiner, bool withAttackers)
    {
        var global = new float[Parameters];
        var optimizer = new ServerSgd();
        var attackerSelections = 0;
        for (var round = 0; round < Rounds; round++)
        {
            var updates = new ClientUpdate[Clients];
            Parallel.For(0, Clients, k =>
            {
                var attacker = withAttackers && IsAttacker(k, Attackers);
                var random = new Random(ClientSeed(round, k));
                var rows = new List<(float[] X, int Y)>(RowsPerClient * 2);
                for (var row = k * RowsPerClient; row < (k + 1) * RowsPerClient; row++)
                {
                    rows.Add((_trainX[row], _trainY[row]));
                    if (attacker && _trainY[row] != TargetClass)
                    {
                        rows.Add((_triggeredTrainX[row], TargetClass));
                    }
                }
                var local = (float[])global.Clone();
                Train(local, rows, random, RoundLearningRate(round));
                var delta = new float[Parameters];
                var scale = attacker ? (float)Boost : 1f;
                for (var i = 0; i < Parameters; i++)
                {
                    delta[i] = scale * (local[i] - global[i]);
                }
                updates[k] = new ClientUpdate(attacker ? $"attacker{k}" : $"client{k}", delta, RowsPerClient);
            });
            var combined = combiner.Combine(updates);
            attackerSelections += combined.Selected.Count(id => id.StartsWith("attacker", StringComparison.Ordinal));
            global = optimizer.Apply(global, combined.Delta);
        }
        return new PoisoningOutcome(combiner.Name, Accuracy(global), BackdoorSuccess(global), attackerSelections, Rounds);
    }

    /// <summary>L2 norms of the honest updates of the first <paramref name="rounds"/> FedAvg rounds, round by round.</summary>
    public double[] UpdateNorms(int rounds)
    {
        var global = new float[Parameters];
        var norms = new List<double>();
        for (var round = 0; round < rounds; round++)
        {
            var updates = new ClientUpdate[Clients];
            for (var k = 0; k < Clients; k++)
            {
                var rows = Enumerable.Range(k * RowsPerClient, RowsPerClient).Select(row => (_trainX[row], _trainY[row])).ToList();
                var local = (float[])global.Clone();
                Train(local, rows, new Random(ClientSeed(round, k)), RoundLearningRate(round));
                var delta = local.Zip(global, (a, b) => a - b).ToArray();
                norms.Add(UpdateClipping.L2Norm(delta));
                updates[k] = new ClientUpdate($"client{k}", delta, RowsPerClient);
            }
            global = new ServerSgd().Apply(global, new FedAvgCombiner().Combine(updates).Delta);
        }
        return norms.ToArray();
    }

    // Plain arrays and index arithmetic rather than spans: the test project runs unoptimised (Debug) in CI, where span
    // indexers are calls and array indexing is not.
    private void Train(float[] w, List<(float[] X, int Y)> rows, Random random, double learningRate)
    {
        var order = Enumerable.Range(0, rows.Count).ToArray();
        var gradient = new float[Parameters];
        var p = new float[Classes];
        const int F = PoisoningData.Features;
        for (var epoch = 0; epoch < LocalEpochs; epoch++)
        {
            random.Shuffle(order);
            for (var start = 0; start < order.Length; start += BatchSize)
            {
                var end = Math.Min(start + BatchSize, order.Length);
                Array.Clear(gradient);
                for (var b = start; b < end; b++)
                {
                    var (x, y) = rows[order[b]];
                    Probabilities(w, x, p);
                    p[y] -= 1f;
                    // Pooled images are about half background (exact zeros), which contribute nothing.
                    for (var f = 0; f < F; f++)
                    {
                        var xf = x[f];
                        if (xf != 0)
                        {
                            for (var c = 0; c < Classes; c++)
                            {
                                gradient[(c * Width) + f] += p[c] * xf;
                            }
                        }
                    }
                    for (var c = 0; c < Classes; c++)
                    {
                        gradient[(c * Width) + F] += p[c];
                    }
                }
                var step = (float)(learningRate / (end - start));
                for (var i = 0; i < Parameters; i++)
                {
                    w[i] -= step * gradient[i];
                }
            }
        }
    }

    private static void Probabilities(float[] w, float[] x, float[] p)
    {
        const int F = PoisoningData.Features;
        for (var c = 0; c < Classes; c++)
        {
            p[c] = w[(c * Width) + F];
        }
        for (var f = 0; f < F; f++)
        {
            var xf = x[f];
            if (xf != 0)
            {
                for (var c = 0; c < Classes; c++)
                {
                    p[c] += w[(c * Width) + f] * xf;
                }
            }
        }
        var max = float.NegativeInfinity;
        for (var c = 0; c < Classes; c++)
        {
            max = Math.Max(max, p[c]);
        }
        float sum = 0;
        for (var c = 0; c < Classes; c++)
        {
            p[c] = MathF.Exp(p[c] - max);
            sum += p[c];
        }
        for (var c = 0; c < Classes; c++)
        {
            p[c] /= sum;
        }
    }

    public static int Predict(float[] w, float[] x)
    {
        var p = new float[Classes];
        Probabilities(w, x, p);
        var best = 0;
        for (var c = 1; c < Classes; c++)
        {
            if (p[c] > p[best])
            {
                best = c;
            }
        }
        return best;
    }

    public double Accuracy(float[] w) => Enumerable.Range(0, TestRows).Count(i => Predict(w, _testX[i]) == _testY[i]) / (double)TestRows;

    public double BackdoorSuccess(float[] w) => _triggeredTestX.Count(x => Predict(w, x) == TargetClass) / (double)_triggeredTestX.Length;
}
