using System.Diagnostics;
using System.Globalization;
using EdgeProfile.Bench.RetailModels;
using EdgeProfile.Training;

// Retail, real customers (UCI Online Retail): the product's own path end to end — replay into an edge agent over MQTT,
// point-in-time training sets from its log (TrainingSetBuilder, as `features training-set`), MMoE and logistic
// regression through the `models train` pipeline (scored from the exported fp32 and int8 ONNX), and in the same
// invocation Debian's python3-xgboost on the same CSV, columns and time split. See bench/README.md.
// Usage: dotnet run -c Release --project bench/EdgeProfile.Bench.RetailModels [-- --seeds 1,2,3 --threads 2 --out DIR]
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
TorchEnvironment.Prepare();
var settings = Settings.Parse(args);
var root = Up(d => File.Exists(Path.Combine(d, "EdgeProfile.sln")), "the repository (EdgeProfile.sln)");
const string DataFile = "online_retail_clean.csv.gz";
var data = settings.Data ?? Path.Combine(
    Up(d => File.Exists(Path.Combine(d, "shared", "data", "online-retail", DataFile)), $"../shared/data/online-retail/{DataFile} beside the repository"),
    "shared", "data", "online-retail", DataFile);
var temporary = settings.Out is null;
var outDir = settings.Out is { } o ? Path.GetFullPath(o) : Directory.CreateTempSubdirectory("ep-bench-retail-").FullName;
var total = Stopwatch.StartNew();
Console.WriteLine($"bench-retail-models: {data}; out {outDir}; seeds {string.Join(',', settings.Seeds)}; cutoffs every {settings.StepDays} d from {settings.From:yyyy-MM-dd}, split {settings.Split:yyyy-MM-dd}; {Environment.ProcessorCount} cores");

try
{
    var report = await RetailEvaluation.RunAsync(settings, root, data, outDir);
    Console.WriteLine();
    Console.Write(report);
    Console.WriteLine();
    Console.WriteLine($"wall time {total.Elapsed.TotalSeconds:F0} s");
}
finally
{
    if (temporary)
    {
        Directory.Delete(outDir, recursive: true);
    }
}

return 0;

static string Up(Func<string, bool> found, string what)
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

    throw new InvalidOperationException($"{what} not found above the working directory or the binary");
}
