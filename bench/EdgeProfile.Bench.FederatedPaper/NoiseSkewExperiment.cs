using System.Diagnostics;
using System.Text;
using static TorchSharp.torch;

namespace EdgeProfile.Bench.FederatedPaper;

/// <summary>
/// (A) NIID-Bench (Li, Diao, Chen, He: "Federated Learning on Non-IID Data Silos: An Experimental Study", ICDE 2022),
/// noise-based feature skew on Fashion-MNIST, replicated from its code (github.com/Xtra-Computing/NIID-Bench,
/// scripts/image-data-with-noise.sh, experiments.py, utils.py):
/// <list type="bullet">
/// <item>partition <c>homo</c>: a seeded permutation of the 60,000 training rows split into N equal parts
/// (<c>np.array_split</c>);</item>
/// <item>party i adds Gaussian noise to its inputs with <c>noise_level = noise / (N − 1) · i</c>, noise = 0.1; the code
/// passes it as the <b>standard deviation</b> of <c>AddGaussianNoise(0., noise_level)</c> (the issue and the paper's
/// text say "variance"; we follow the code); fresh noise per draw, no clipping, no normalisation beyond ToTensor's /255;</item>
/// <item>the same noise is on the test side: with noise &gt; 0 the global test loader is the concatenation of every
/// party's test set, i.e. the 10,000 test images once per party with that party's noise level; accuracy is pooled
/// over the N copies (we also print the clean copy, party 0's);</item>
/// <item>simple CNN, all parties every round (sample = 1), 50 rounds, 10 local epochs, batch 64 (last batch short),
/// SGD lr 0.01, momentum (rho) 0.9, weight decay (reg) 1e-5 (the default; the script does not set it); the optimiser
/// is created anew for every party and round, so momentum restarts each round; the same initial weights for all
/// parties (is_same_initial = 1); the server takes the sample-weighted average of the parties' weights.</item>
/// </list>
/// Paper: FedAvg 89.1 % ± 0.3 (3 seeds).
/// </summary>
internal static class NoiseSkewExperiment
{
    public const double PaperAccuracy = 0.891;
    public const double PaperStd = 0.003;
    public const double Tolerance = 0.01;

    public sealed record Result(int Parties, int Rounds, int RoundsDone, int LocalEpochs, double FinalAccuracy, double FinalClean, double BestAccuracy, int BestRound, double SecondsPerRound, TimeSpan Elapsed)
    {
        public string Table()
        {
            var within = Math.Abs(FinalAccuracy - PaperAccuracy) <= Tolerance;
            var sb = new StringBuilder();
            sb.AppendLine($"(A) NIID-Bench noise-based feature skew, Fashion-MNIST, {Parties} parties, simple CNN, {LocalEpochs} local epochs, batch 64, SGD 0.01 / 0.9");
            sb.AppendLine("| rounds | FedAvg accuracy, final (noisy copies pooled) | clean test set | best (round) | paper | within 1 point | s/round | time |");
            sb.AppendLine("|---|---|---|---|---|---|---|---|");
            var verdict = RoundsDone < Rounds ? $"n/a ({RoundsDone} of {Rounds} rounds)" : within ? "yes" : "no";
            sb.AppendLine($"| {RoundsDone}/{Rounds} | {FinalAccuracy:P2} | {FinalClean:P2} | {BestAccuracy:P2} ({BestRound}) | {PaperAccuracy:P1} ± {PaperStd * 100:F1} | {verdict} | {SecondsPerRound:F1} | {Elapsed.TotalSeconds:F0} s |");
            return sb.ToString();
        }
    }

    public static Result Run(Tensors data, Settings s)
    {
        var n = s.Parties ?? 10;
        var rounds = s.Rounds ?? (s.Quick ? 3 : 50);
        var localEpochs = s.Quick ? 1 : s.LocalEpochs;
        var clock = Stopwatch.StartNew();
        manual_seed(s.Seed);
        var random = new Random(s.Seed);

        var permutation = Enumerable.Range(0, data.TrainCount).ToArray();
        random.Shuffle(permutation);
        var parties = new Party[n];
        for (var i = 0; i < n; i++)
        {
            // np.array_split: the first (count mod n) parts get one row more.
            var (from, to) = (Split(data.TrainCount, n, i), Split(data.TrainCount, n, i + 1));
            var std = n > 1 ? (float)(s.Noise * i / (n - 1)) : 0f;
            parties[i] = new Party($"party-{i}", permutation[from..to], std);
        }

        using var model = new SimpleCnn();
        var global = ParameterVector.Flatten(model);
        var local = new LocalTraining(0.01, 0.9, 1e-5, localEpochs, 64);
        using var server = new FederatedServer(() => new SimpleCnn(), s.Workers, data.TrainImages, data.TrainLabels, local);
        Console.WriteLine($"(A) {n} parties of {parties.Min(p => p.Rows.Length)}–{parties.Max(p => p.Rows.Length)} rows, noise std {string.Join(' ', parties.Select(p => p.NoiseStd.ToString("0.###")))}; "
            + $"{global.Length:N0} parameters; {rounds} rounds x {localEpochs} local epochs");

        // The test-side noise has its own stream, so the run does not depend on how many worker models drew weights.
        using var testNoise = new Generator((ulong)s.Seed);
        var (final, clean, best, bestRound, done) = (0.0, 0.0, 0.0, 0, 0);
        for (var r = 1; r <= rounds; r++)
        {
            global = server.Round(global, parties, random);
            ParameterVector.Load(model, global);
            long correct = 0;
            foreach (var party in parties)
            {
                var c = Evaluator.Correct(model, data.TestImages, data.TestLabels, party.NoiseStd, testNoise);
                correct += c;
                if (party.NoiseStd == 0)
                {
                    clean = c / (double)data.TestLabels.shape[0];
                }
            }

            final = correct / (double)(parties.Length * data.TestLabels.shape[0]);
            if (final > best)
            {
                (best, bestRound) = (final, r);
            }

            done = r;
            var perRound = clock.Elapsed.TotalSeconds / r;
            Console.WriteLine($"  A round {r,3}/{rounds}: accuracy {final:P2} (clean {clean:P2}), train loss {server.LastLoss:F4}, "
                + $"{clock.Elapsed.TotalSeconds:F0} s, {perRound:F1} s/round, projected {perRound * rounds:F0} s");
        }

        return new Result(n, rounds, done, localEpochs, final, clean, best, bestRound, clock.Elapsed.TotalSeconds / Math.Max(1, done), clock.Elapsed);
    }

    private static int Split(int count, int parts, int i) => (i * (count / parts)) + Math.Min(i, count % parts);
}
