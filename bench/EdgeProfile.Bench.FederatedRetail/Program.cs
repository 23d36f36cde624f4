using System.Diagnostics;
using System.Globalization;
using EdgeProfile.Bench.FederatedRetail;
using EdgeProfile.Training;

// Federated vs central vs local-only on real retail data split by real store (completejourney) and by country group
// (UCI Online Retail): point-in-time customer rows, time-based split, AUC per method. See bench/README.md.
// Usage: dotnet run -c Release --project bench/EdgeProfile.Bench.FederatedRetail [-- --seeds 1,2 --rounds 20 --specs lr,mmoe]
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
TorchEnvironment.Prepare();
var settings = Settings.Parse(args);
var data = settings.Data ?? Path.Combine(Up(d => Directory.Exists(Path.Combine(d, "shared", "data", "completejourney"))), "shared", "data");
var total = Stopwatch.StartNew();
Console.WriteLine($"bench-fl-retail: data {data}; seeds {string.Join(',', settings.Seeds)}; {Environment.ProcessorCount} cores, {settings.Threads} torch threads");
foreach (var name in settings.Datasets)
{
    var source = name == "completejourney"
        ? CompleteJourneySource.Load(Path.Combine(data, "completejourney"), settings.Edges, settings.StepDays)
        : OnlineRetailSource.Load(Path.Combine(data, "online-retail", "online_retail_clean.csv.gz"), settings.StepDays);
    Console.WriteLine();
    Console.Write(FederatedRetailRun.Run(source, settings));
}
Console.WriteLine();
Console.WriteLine($"wall time {total.Elapsed.TotalSeconds:F0} s");
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
    throw new InvalidOperationException("../shared/data/completejourney not found above the working directory or the binary (or pass --data)");
}
