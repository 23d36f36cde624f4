using System.Diagnostics;
using System.Text;
using EdgeProfile.Models;

namespace EdgeProfile.Bench.FederatedRetail;

/// <summary>One data set: rows per partition, then per spec every method over the seeds, the AUC tables and the goal lines.</summary>
internal static class FederatedRetailRun
{
    public static string Run(RetailSource source, Settings s)
    {
        var watch = Stopwatch.StartNew();
        var parts = CustomerRows.Build(source);
        var report = new StringBuilder();
        report.AppendLine($"## {source.Name}: {source.PartitionRule}");
        report.AppendLine();
        report.AppendLine($"{source.Purchases.Count:N0} lines, {source.CustomerPartition.Count:N0} customers; train cutoffs {source.TrainCutoffs.Count} " +
            $"({source.TrainCutoffs[0]:yyyy-MM-dd}..{source.TrainCutoffs[^1]:yyyy-MM-dd}, every {s.StepDays} d, label windows closed by the first test cutoff), " +
            $"test cutoffs {string.Join(", ", source.TestCutoffs.Select(c => c.ToString("yyyy-MM-dd")))}; rows built in {watch.Elapsed.TotalSeconds:F1} s.");
        report.AppendLine();
        report.AppendLine("| partition | customers | train rows | test rows | train repurchase_30d / churn_90d rate | test repurchase_30d / churn_90d rate |");
        report.AppendLine("|---|---:|---:|---:|---:|---:|");
        foreach (var p in parts)
        {
            report.AppendLine($"| {p.Name} | {p.Customers:N0} | {p.Train.Rows:N0} | {p.Test.Rows:N0} | {Rate(p.Train, 0):P1} / {Rate(p.Train, 1):P1} | {Rate(p.Test, 0):P1} / {Rate(p.Test, 1):P1} |");
        }
        report.AppendLine($"| all | {parts.Sum(p => p.Customers):N0} | {parts.Sum(p => p.Train.Rows):N0} | {parts.Sum(p => p.Test.Rows):N0} | | |");
        Console.Write(report.ToString());
        var printed = report.Length;

        foreach (var specName in s.Specs)
        {
            var spec = specName == "lr"
                ? new ModelSpec(CustomerRows.Features, 1, [], [], CustomerRows.Tasks)
                : new ModelSpec(CustomerRows.Features, 2, [16], [8], CustomerRows.Tasks);
            var runs = new List<MethodResult>();
            foreach (var seed in s.Seeds)
            {
                runs.Add(Methods.Central(parts, spec, s, seed));
                runs.Add(Methods.CentralEarlyStopped(parts, spec, s, seed));
                runs.Add(Methods.Local(parts, spec, s, seed));
                runs.Add(Methods.LocalEarlyStopped(parts, spec, s, seed));
                runs.Add(Methods.Federated(parts, spec, s, seed, 0));
                if (s.ProxMu > 0)
                {
                    runs.Add(Methods.Federated(parts, spec, s, seed, s.ProxMu));
                }
                foreach (var r in runs.TakeLast(s.ProxMu > 0 ? 6 : 5))
                {
                    Console.WriteLine($"  [{source.Name} {specName} seed {seed}] {r.Method}: union AUC {string.Join(" / ", r.UnionAuc.Select(a => a.ToString("F4")))}, {r.Seconds:F1} s");
                }
            }
            report.AppendLine();
            Table(report, source, specName, spec, parts, runs, s);
        }
        report.AppendLine();
        report.AppendLine($"{source.Name}: {watch.Elapsed.TotalSeconds:F0} s");
        return report.ToString()[printed..];
    }

    private static void Table(StringBuilder report, RetailSource source, string specName, ModelSpec spec, IReadOnlyList<CustomerRows.Partition> parts, List<MethodResult> runs, Settings s)
    {
        var tasks = CustomerRows.Tasks;
        var methods = runs.Select(r => r.Method).Distinct().ToArray();
        var description = specName == "lr" ? "logistic regression (1 expert without layers, no tower hidden layer)" : "MMoE, 2 experts [16], towers [8]";
        report.AppendLine($"### {source.Name}, {description}: test AUC, mean over seeds {string.Join(',', s.Seeds)} (per-seed values in brackets)");
        report.AppendLine();
        report.AppendLine("| method | " + string.Join(" | ", tasks.Select(t => $"{t.Name}: union test rows")) + " | " +
            string.Join(" | ", tasks.Select(t => $"{t.Name}: mean per partition")) + " | seconds per seed |");
        report.AppendLine("|---|" + string.Concat(Enumerable.Repeat("---:|", (2 * tasks.Length) + 1)));
        foreach (var m in methods)
        {
            var rs = runs.Where(r => r.Method == m).ToArray();
            var union = Enumerable.Range(0, tasks.Length).Select(t => Cell(rs.Select(r => r.UnionAuc[t]).ToArray()));
            var perPartition = Enumerable.Range(0, tasks.Length).Select(t => Cell(rs.Select(r => MeanPartition(r, t)).ToArray()));
            report.AppendLine($"| {m} | {string.Join(" | ", union)} | {string.Join(" | ", perPartition)} | {rs.Average(r => r.Seconds):F1} |");
            if (rs[0].LocalOnUnionAuc is not null)
            {
                report.AppendLine($"| ↳ same local models, each scored on all partitions' test rows (mean over models) | " +
                    string.Join(" | ", Enumerable.Range(0, tasks.Length).Select(t => Cell(rs.Select(r => r.LocalOnUnionAuc![t]).ToArray()))) +
                    " | " + string.Join(" | ", tasks.Select(_ => "")) + " | |");
            }
        }
        report.AppendLine();
        report.AppendLine("Per partition (mean over seeds), " + string.Join(" / ", tasks.Select(t => t.Name)) + ":");
        report.AppendLine();
        report.AppendLine("| method | " + string.Join(" | ", parts.Select(p => $"{p.Name} ({p.Test.Rows:N0} test rows)")) + " |");
        report.AppendLine("|---|" + string.Concat(Enumerable.Repeat("---:|", parts.Count)));
        foreach (var m in methods)
        {
            var rs = runs.Where(r => r.Method == m).ToArray();
            report.AppendLine($"| {m} | " + string.Join(" | ", Enumerable.Range(0, parts.Count).Select(k =>
                string.Join(" / ", Enumerable.Range(0, tasks.Length).Select(t => Mean(rs.Select(r => r.PartitionAuc[k][t])).ToString("F3"))))) + " |");
        }
        report.AppendLine();
        var federated = runs.Where(r => r.Method.StartsWith("federated FedAvg", StringComparison.Ordinal)).ToArray();
        foreach (var (t, task) in tasks.Select((x, i) => (i, x.Name)))
        {
            var fedUnion = Mean(federated.Select(r => r.UnionAuc[t]));
            var fedPartition = Mean(federated.Select(r => MeanPartition(r, t)));
            foreach (var central in methods.Where(m => m.StartsWith("central", StringComparison.Ordinal)))
            {
                var gap = 100 * (fedUnion - Mean(runs.Where(r => r.Method == central).Select(r => r.UnionAuc[t])));
                report.AppendLine($"- {task}, union test rows: federated − {central} = {Signed(gap)} pt (goal ≥ −1 pt): **{(gap >= -1 ? "met" : "NOT met")}**");
            }
            foreach (var local in methods.Where(m => m.StartsWith("local", StringComparison.Ordinal)))
            {
                var gap = 100 * (fedPartition - Mean(runs.Where(r => r.Method == local).Select(r => MeanPartition(r, t))));
                report.AppendLine($"- {task}, mean per partition: federated − mean({local}) = {Signed(gap)} pt (goal ≥ +2 pt): **{(gap >= 2 ? "met" : "NOT met")}**");
            }
            // What pooling all rows buys over local-only at best: a federated model that matches central cannot add much more.
            var bestCentral = methods.Where(m => m.StartsWith("central", StringComparison.Ordinal))
                .Max(m => Mean(runs.Where(r => r.Method == m).Select(r => MeanPartition(r, t))));
            var bestLocal = methods.Where(m => m.StartsWith("local", StringComparison.Ordinal))
                .Max(m => Mean(runs.Where(r => r.Method == m).Select(r => MeanPartition(r, t))));
            report.AppendLine($"- {task}, headroom: best central − best local-only, mean per partition = {Signed(100 * (bestCentral - bestLocal))} pt");
        }
        report.AppendLine();
        report.AppendLine($"Parameters: {ModelWeightsVector.Length(Methods.Parameters(spec))}; Adam lr {s.LearningRate}, batch {s.BatchSize}; same budget = {s.Rounds * s.LocalEpochs} epochs; early-stopped: ≤ {s.MaxEpochs} epochs, patience 5, validation = last two train cutoffs; server lr {s.ServerLearningRate}.");
    }

    // Rounded first, so that −0.004 prints as "+0.00" and not as a signed zero.
    private static string Signed(double points)
    {
        var rounded = Math.Round(points, 2) + 0.0;
        return (rounded < 0 ? "−" : "+") + Math.Abs(rounded).ToString("F2");
    }

    private static double MeanPartition(MethodResult r, int task) => Mean(r.PartitionAuc.Select(p => p[task]));

    private static double Mean(IEnumerable<double> values)
    {
        var finite = values.Where(double.IsFinite).ToArray();
        return finite.Length == 0 ? double.NaN : finite.Average();
    }

    private static string Cell(double[] values) => $"{Mean(values):F4} [{string.Join(", ", values.Select(v => v.ToString("F3")))}]";

    private static double Rate(Training.TrainingData data, int task) => data.Rows == 0 ? double.NaN : data.Labels[task].Average(r => (double)r[0]);
}
