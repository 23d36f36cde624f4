using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace EdgeProfile.Bench.RetailModels;

/// <summary>
/// Runs bench/models/retail_xgboost.py (Debian's python3-xgboost) on the same training_set.csv, the same feature
/// columns and the same time split as the product pipeline; one JSON line per task back.
/// </summary>
internal static class XgboostPeer
{
    /// <summary>Per task: metric values over the seeds; null and the reason when python or xgboost failed.</summary>
    public static async Task<(Dictionary<string, double[]>? Values, string? Error)> RunAsync(
        string script, string trainingSet, string featuresFile, DateTimeOffset split, IReadOnlyList<int> seeds, int threads)
    {
        var psi = new ProcessStartInfo("/usr/bin/python3")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var a in new[]
                 {
                     script, trainingSet, "--features", featuresFile,
                     "--split", split.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture),
                     "--seeds", string.Join(',', seeds), "--threads", threads.ToString(CultureInfo.InvariantCulture),
                 })
        {
            psi.ArgumentList.Add(a);
        }

        using var python = Process.Start(psi)!;
        var stdout = python.StandardOutput.ReadToEndAsync();
        var stderr = python.StandardError.ReadToEndAsync();
        await python.WaitForExitAsync();
        if (python.ExitCode != 0)
        {
            return (null, $"exit {python.ExitCode} (apt-get install -y python3-xgboost python3-sklearn): {(await stderr).Trim()}");
        }

        var values = new Dictionary<string, double[]>(StringComparer.Ordinal);
        foreach (var line in (await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            values[root.GetProperty("task").GetString()!] = [.. root.GetProperty("values").EnumerateArray().Select(v => v.GetDouble())];
        }

        return (values, null);
    }
}
