using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using EdgeProfile.Knowledge.Graph;
using EdgeProfile.Knowledge.Rules;
using Microsoft.Data.Sqlite;

namespace EdgeProfile.Bench.Knowledge;

/// <summary>Part 1: the rule engine to fixpoint beside the same rules in SQLite (in-memory database), same facts, same run.</summary>
internal static class RulesBench
{
    private sealed record Customer(long Id, int[] Values, long[] Interests);

    /// <summary>Per run of ours: gen-2 collections and GC pause time (ms) inside the timed call.</summary>
    private static readonly List<(int Gen2, double PauseMs)> OurGc = [];

    private sealed record Outcome(double Ms, long Ancestors, long InterestedIn, List<(long C, string T)> Tags);

    /// <summary>Builds the fact base, runs both sides <see cref="BenchOptions.RuleReps"/> times and prints the table.</summary>
    public static void Run(BenchOptions options, string taxonomyFile)
    {
        var watch = Stopwatch.StartNew();
        List<TaxonomyCategory> categories;
        using (var reader = new StreamReader(taxonomyFile, Encoding.UTF8))
        {
            categories = [.. TaxonomyImporter.Parse(reader)];
        }

        var byPath = categories.ToDictionary(c => c.Path, c => c.Id, StringComparer.Ordinal);
        var edges = categories
            .Select(c => (X: c.Id, Y: c.Depth == 1 ? 0L : byPath[string.Join(" > ", c.Segments.Take(c.Depth - 1))]))
            .ToList();
        var customers = Generate(options, categories);
        var facts = new List<Fact>(edges.Count + customers.Count * 12);
        var subClassOf = "subClassOf";
        foreach (var (x, y) in edges)
        {
            facts.Add(new Fact(subClassOf, Value.Of(x), Value.Of(y)));
        }

        var featureNames = RuleProgram.Features.Select(Value.Of).ToArray();
        var categoryValues = categories.ToDictionary(c => c.Id, c => Value.Of(c.Id));
        foreach (var c in customers)
        {
            var id = Value.Of(c.Id);
            for (var f = 0; f < featureNames.Length; f++)
            {
                facts.Add(new Fact("feature", id, featureNames[f], Value.Of(c.Values[f])));
            }

            foreach (var x in c.Interests)
            {
                facts.Add(new Fact("interest", id, categoryValues[x]));
            }
        }

        var buildFactsMs = watch.Elapsed.TotalMilliseconds;
        var interestCount = customers.Sum(c => c.Interests.Length);
        Console.WriteLine($"## 1. Rules to fixpoint vs SQLite ({Fmt.N(facts.Count)} base facts: {Fmt.N(edges.Count)} subClassOf, "
            + $"{Fmt.N(customers.Count * RuleProgram.Features.Length)} feature, {Fmt.N(interestCount)} interest; {Fmt.N(customers.Count)} customers)");
        Console.WriteLine();

        watch.Restart();
        var compiled = RuleCompiler.Compile(RuleProgram.Rules, new HashSet<string>(RuleProgram.Features, StringComparer.Ordinal));
        if (!compiled.Success)
        {
            throw new InvalidOperationException("Rule program does not compile: " + string.Join("; ", compiled.Errors));
        }

        var compileMs = watch.Elapsed.TotalMilliseconds;
        var ruleSet = compiled.RuleSet!;
        var tagRules = ruleSet.Metadata.Count;

        var closureCompiled = RuleCompiler.Compile(RuleProgram.ClosureRules);
        var closureRules = closureCompiled.RuleSet ?? throw new InvalidOperationException("Closure rules do not compile: " + string.Join("; ", closureCompiled.Errors));
        if (options.Only.Contains("rules-ours", StringComparison.Ordinal))
        {
            // Our engine alone, for profiling (no SQLite, no table).
            for (var rep = 0; rep < Math.Max(1, options.RuleReps); rep++)
            {
                GC.Collect();
                var start = Stopwatch.GetTimestamp();
                var evaluated = Engine.Evaluate(ruleSet, facts);
                Console.WriteLine($"ours, rep {rep + 1}: {Stopwatch.GetElapsedTime(start).TotalMilliseconds:F1} ms ({evaluated.GetType().Name})");
            }
            return;
        }

        var ours = new List<Outcome>();
        var oursClosure = new List<Outcome>();
        var peersClosure = new List<Outcome>();
        var peers = new List<Outcome>();
        var sqliteLoads = new List<double>();
        for (var rep = 0; rep < Math.Max(1, options.RuleReps); rep++)
        {
            // alternate the order so neither side always runs on the warmer machine
            if (rep % 2 == 0)
            {
                ours.Add(RunOurs(ruleSet, facts));
                peers.Add(RunSqlite(edges, customers, sqliteLoads, RuleProgram.Derive));
                oursClosure.Add(RunOurs(closureRules, facts));
                peersClosure.Add(RunSqlite(edges, customers, [], RuleProgram.DeriveClosure));
            }
            else
            {
                peers.Add(RunSqlite(edges, customers, sqliteLoads, RuleProgram.Derive));
                ours.Add(RunOurs(ruleSet, facts));
                peersClosure.Add(RunSqlite(edges, customers, [], RuleProgram.DeriveClosure));
                oursClosure.Add(RunOurs(closureRules, facts));
            }
        }

        var o = ours[^1];
        var p = peers[^1];
        var ourTags = Sorted(o.Tags);
        var peerTags = Sorted(p.Tags);
        var same = ourTags.SequenceEqual(peerTags) && o.Ancestors == p.Ancestors && o.InterestedIn == p.InterestedIn;
        double Median(List<Outcome> list) => Quantile(list.Select(x => x.Ms).ToList(), 0.5);
        double Min(List<Outcome> list) => list.Min(x => x.Ms);
        var sqliteLoadMedian = Quantile(sqliteLoads, 0.5);

        Console.WriteLine("| figure | ours (Datalog engine) | SQLite (recursive CTE + INSERT … SELECT, in-memory) | speed-up (SQLite ÷ ours) |");
        Console.WriteLine("|---|---|---|---|");
        Console.WriteLine($"| time to fixpoint, median of {ours.Count} (ms) | {Fmt.Ms(Median(ours))} | {Fmt.Ms(Median(peers))} | {Fmt.Ratio(Median(peers) / Median(ours))} |");
        Console.WriteLine($"| time to fixpoint, best of {ours.Count} (ms) | {Fmt.Ms(Min(ours))} | {Fmt.Ms(Min(peers))} | {Fmt.Ratio(Min(peers) / Min(ours))} |");
        Console.WriteLine($"| of which closure + interest propagation alone (`ancestor`, `top_level`, `interested_in`; separate run), median (ms) | {Fmt.Ms(Median(oursClosure))} | {Fmt.Ms(Median(peersClosure))} | {Fmt.Ratio(Median(peersClosure) / Median(oursClosure))} |");
        Console.WriteLine($"| of which the 20 tag rules (full − closure stage), median (ms) | {Fmt.Ms(Median(ours) - Median(oursClosure))} | {Fmt.Ms(Median(peers) - Median(peersClosure))} | {Fmt.Ratio((Median(peers) - Median(peersClosure)) / (Median(ours) - Median(oursClosure)))} |");
        Console.WriteLine($"| load + index before the run, median (ms) | 0 (indexes built inside the run) | {Fmt.Ms(sqliteLoadMedian)} | |");
        Console.WriteLine($"| load + fixpoint, median (ms) | {Fmt.Ms(Median(ours))} | {Fmt.Ms(sqliteLoadMedian + Median(peers))} | {Fmt.Ratio((sqliteLoadMedian + Median(peers)) / Median(ours))} |");
        Console.WriteLine($"| ancestor facts (closure) | {Fmt.N(o.Ancestors)} | {Fmt.N(p.Ancestors)} | {(o.Ancestors == p.Ancestors ? "equal" : "DIFFERENT")} |");
        Console.WriteLine($"| interested_in facts | {Fmt.N(o.InterestedIn)} | {Fmt.N(p.InterestedIn)} | {(o.InterestedIn == p.InterestedIn ? "equal" : "DIFFERENT")} |");
        Console.WriteLine($"| tag facts | {Fmt.N(ourTags.Count)} | {Fmt.N(peerTags.Count)} | {(ourTags.Count == peerTags.Count ? "equal" : "DIFFERENT")} |");
        Console.WriteLine($"| tag set hash (SHA-256 of sorted `c\\ttag` lines) | {Hash(ourTags)} | {Hash(peerTags)} | {(same ? "same sets" : "DIFFERENT")} |");
        Console.WriteLine();
        var ratio = Median(peers) / Median(ours);
        Console.WriteLine($"goal ≥ 10× faster than SQLite (median fixpoint times): {(ratio >= 10 ? "MET" : "NOT MET")} ({Fmt.Ratio(ratio)}); results identical: {(same ? "yes" : "NO")}");
        Console.WriteLine($"per rep (ms) ours: {string.Join(", ", ours.Select(x => Fmt.Ms(x.Ms)))}; SQLite: {string.Join(", ", peers.Select(x => Fmt.Ms(x.Ms)))}; "
            + $"SQLite load: {string.Join(", ", sqliteLoads.Select(Fmt.Ms))}");
        Console.WriteLine($"ours, GC inside the timed calls (full and closure runs, in order): "
            + string.Join(", ", OurGc.Select(g => $"{g.Gen2} gen2 / {Fmt.Ms(g.PauseMs)} ms pause")));
        Console.WriteLine($"rule program: {ruleSet.Rules.Count} rules ({tagRules} tag rules), {ruleSet.Strata.Count} strata, compiled in {Fmt.Ms(compileMs)} ms; "
            + $"fact list built in {Fmt.Ms(buildFactsMs)} ms (not timed on either side); SQLite: in-memory database (:memory:), journal off by nature.");
        Console.WriteLine();
        Console.WriteLine("| tag | ours | SQLite |");
        Console.WriteLine("|---|---|---|");
        var ourCounts = ourTags.GroupBy(t => t.T).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        var peerCounts = peerTags.GroupBy(t => t.T).ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);
        foreach (var tag in ourCounts.Keys.Union(peerCounts.Keys).Order(StringComparer.Ordinal))
        {
            Console.WriteLine($"| {tag} | {Fmt.N(ourCounts.GetValueOrDefault(tag))} | {Fmt.N(peerCounts.GetValueOrDefault(tag))} |");
        }

        Console.WriteLine();
        Console.WriteLine(Settings.Load());
        Console.WriteLine();
    }

    private static List<Customer> Generate(BenchOptions options, List<TaxonomyCategory> categories)
    {
        var random = new Random(options.Seed);
        var list = new List<Customer>(options.Customers);
        for (var i = 0; i < options.Customers; i++)
        {
            int[] values =
            [
                random.Next(0, 10_001), // spend_30d
                random.Next(0, 21), // orders_30d
                random.Next(0, 31), // visits_7d
                random.Next(0, 366), // days_since_last
                random.Next(0, 11), // returns_90d
                random.Next(0, 6), // cancels_90d
                random.Next(5, 501), // avg_basket
                random.Next(18, 81), // age
            ];
            var k = random.Next(1, 6);
            var interests = new HashSet<long>();
            while (interests.Count < k)
            {
                interests.Add(categories[random.Next(categories.Count)].Id);
            }

            list.Add(new Customer(1_000_000 + i, values, [.. interests]));
        }

        return list;
    }

    private static Outcome RunOurs(RuleSet ruleSet, List<Fact> facts)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var gen2 = GC.CollectionCount(2);
        var pause = GC.GetTotalPauseDuration();
        var start = Stopwatch.GetTimestamp();
        var result = Engine.Evaluate(ruleSet, facts);
        var ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        OurGc.Add((GC.CollectionCount(2) - gen2, (GC.GetTotalPauseDuration() - pause).TotalMilliseconds));
        var tags = result.Facts("tag").Select(f => ((long)f.Arguments[0].Number, f.Arguments[1].Text!)).ToList();
        return new Outcome(ms, result.Facts("ancestor").Count, result.Facts("interested_in").Count, tags);
    }

    private static Outcome RunSqlite(List<(long X, long Y)> edges, List<Customer> customers, List<double> loads, string derivation)
    {
        GC.Collect();
        var loadStart = Stopwatch.GetTimestamp();
        using var connection = new SqliteConnection("Data Source=:memory:;Pooling=False");
        connection.Open();
        Exec(connection, RuleProgram.Schema);
        using (var tx = connection.BeginTransaction())
        {
            using var edge = Prepared(connection, tx, "INSERT INTO subclass(x, y) VALUES ($a, $b)", 2);
            foreach (var (x, y) in edges)
            {
                edge.Parameters[0].Value = x;
                edge.Parameters[1].Value = y;
                edge.ExecuteNonQuery();
            }

            using var feature = Prepared(connection, tx, "INSERT INTO feature(c, f, v) VALUES ($a, $b, $c)", 3);
            using var interest = Prepared(connection, tx, "INSERT INTO interest(c, x) VALUES ($a, $b)", 2);
            foreach (var c in customers)
            {
                for (var f = 0; f < RuleProgram.Features.Length; f++)
                {
                    feature.Parameters[0].Value = c.Id;
                    feature.Parameters[1].Value = RuleProgram.Features[f];
                    feature.Parameters[2].Value = c.Values[f];
                    feature.ExecuteNonQuery();
                }

                foreach (var x in c.Interests)
                {
                    interest.Parameters[0].Value = c.Id;
                    interest.Parameters[1].Value = x;
                    interest.ExecuteNonQuery();
                }
            }

            tx.Commit();
        }

        Exec(connection, RuleProgram.Indexes);
        loads.Add(Stopwatch.GetElapsedTime(loadStart).TotalMilliseconds);

        var start = Stopwatch.GetTimestamp();
        using (var tx = connection.BeginTransaction())
        {
            using var derive = connection.CreateCommand();
            derive.Transaction = tx;
            derive.CommandText = derivation;
            derive.ExecuteNonQuery();
            tx.Commit();
        }

        var ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        var tags = new List<(long, string)>();
        using (var read = connection.CreateCommand())
        {
            // the closure-only stage has no tag table: read an empty result instead
            read.CommandText = Scalar(connection, "SELECT count(*) FROM sqlite_schema WHERE name = 'tag'") > 0 ? "SELECT c, t FROM tag" : "SELECT 0, '' WHERE 0";
            using var rows = read.ExecuteReader();
            while (rows.Read())
            {
                tags.Add((rows.GetInt64(0), rows.GetString(1)));
            }
        }

        return new Outcome(ms, Scalar(connection, "SELECT count(*) FROM ancestor"), Scalar(connection, "SELECT count(*) FROM interested_in"), tags);
    }

    private static SqliteCommand Prepared(SqliteConnection connection, SqliteTransaction tx, string sql, int parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        for (var i = 0; i < parameters; i++)
        {
            command.Parameters.Add(new SqliteParameter("$" + (char)('a' + i), 0L));
        }

        command.Prepare();
        return command;
    }

    private static void Exec(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static long Scalar(SqliteConnection connection, string sql)
    {
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }

    private static List<(long C, string T)> Sorted(List<(long C, string T)> tags) =>
        [.. tags.OrderBy(t => t.C).ThenBy(t => t.T, StringComparer.Ordinal)];

    private static string Hash(List<(long C, string T)> sorted)
    {
        var text = new StringBuilder();
        foreach (var (c, t) in sorted)
        {
            text.Append(c).Append('\t').Append(t).Append('\n');
        }

        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text.ToString())))[..16];
    }

    private static double Quantile(List<double> values, double q)
    {
        var sorted = values.Order().ToArray();
        return sorted[Math.Clamp((int)Math.Ceiling(q * sorted.Length) - 1, 0, sorted.Length - 1)];
    }
}
