using System.Diagnostics;
using System.Globalization;
using EdgeProfile.Bench.FederatedPaper;
using EdgeProfile.Training;
using static TorchSharp.torch;

// Two published federated-learning settings on Fashion-MNIST, with the server step on EdgeProfile.Federated
// (FedAvgCombiner + ServerSgd): (A) NIID-Bench's noise-based feature skew (FedAvg 89.1 % ± 0.3 in the paper) and
// (B) McMahan et al.'s pathological non-IID split (rounds to 80 % / 85 %, IID vs non-IID, FedAvg vs FedProx, and the
// centralised ceiling). Outside CI; see bench/README.md.
// Usage: dotnet run -c Release --project bench/EdgeProfile.Bench.FederatedPaper [-- --experiment a|b|all --rounds N --parties N --quick]
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
TorchEnvironment.Prepare();
var settings = Settings.Parse(args);
var total = Stopwatch.StartNew();
set_num_threads(settings.Threads);
var dataDir = settings.Data ?? Path.Combine(Up(d => File.Exists(Path.Combine(d, "shared", "data", "fashion-mnist", "train-images-idx3-ubyte.gz"))), "shared", "data", "fashion-mnist");
var data = FashionMnist.Load(dataDir);
using var tensors = new Tensors(data);
Console.WriteLine($"bench-fl-paper: {dataDir} ({data.TrainCount:N0} train, {data.TestCount:N0} test); experiment {settings.Experiment}{(settings.Quick ? " (quick)" : "")}; "
    + $"seed {settings.Seed}; {get_num_threads()} torch threads; {Environment.ProcessorCount} cores; load {File.ReadAllText("/proc/loadavg").Trim()}");

// The step both experiments repeat, beside PyTorch (same model, batch, optimiser, one thread).
set_num_threads(1);
StepPeer.Run(Up(d => File.Exists(Path.Combine(d, "EdgeProfile.sln"))), settings);
set_num_threads(settings.Threads);
var a = settings.RunA ? NoiseSkewExperiment.Run(tensors, settings) : null;
var b = settings.RunB ? PathologicalSplitExperiment.RunAll(tensors, settings) : null;
Console.WriteLine();
Console.Write(a?.Table());
Console.WriteLine();
Console.Write(b?.Table());
Console.WriteLine();
Console.WriteLine($"wall time {total.Elapsed.TotalSeconds:F0} s; load {File.ReadAllText("/proc/loadavg").Trim()}");
return 0;

static string Up(Func<string, bool> found)
{
    foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
    {
        for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
        {
            if (found(dir.FullName))
            {
                return dir.FullName;
            }
        }
    }

    throw new InvalidOperationException("../shared/data/fashion-mnist not found above the working directory or the binary (or pass --data DIR)");
}
