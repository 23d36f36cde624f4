using System.Globalization;
using EdgeProfile.Bench.Knowledge;

// The knowledge layer against SQLite, in one run: (1) the Datalog engine to fixpoint over ≥ 1M facts (taxonomy closure,
// interest propagation and 20 tag rules over 100k customers) beside the same rules as SQLite recursive CTEs and
// INSERT … SELECT statements; (2) pattern-query latency on a TripleStore of --triples triples beside the same lookups as
// plain SQLite SELECTs on a separately loaded, equivalently indexed table of integer triples.
// Usage: dotnet run -c Release --project bench/EdgeProfile.Bench.Knowledge [-- --triples 10000000 --customers 100000
//        --rule-reps 3 --queries 2500 --warmup 200 --seed 7 --data DIR --only rules,patterns --tmp DIR]
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
var options = BenchOptions.Parse(args);
var taxonomyFile = DataFiles.FindTaxonomy(options.DataDirectory);

Console.WriteLine("# knowledge bench");
Console.WriteLine();
Console.WriteLine(Settings.Line(options, taxonomyFile));
Console.WriteLine();
if (options.Only.Contains("rules", StringComparison.Ordinal))
{
    RulesBench.Run(options, taxonomyFile);
}

if (options.Only.Contains("patterns", StringComparison.Ordinal))
{
    PatternBench.Run(options, taxonomyFile);
}

Console.WriteLine("settings at the end: " + Settings.Load());
return 0;
