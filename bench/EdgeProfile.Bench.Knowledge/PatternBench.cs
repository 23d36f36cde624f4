using System.Diagnostics;
using System.Globalization;
using System.Text;
using EdgeProfile.Knowledge.Graph;
using Microsoft.Data.Sqlite;

namespace EdgeProfile.Bench.Knowledge;

/// <summary>
/// Part 2: a <see cref="TripleStore"/> file of ~N triples (taxonomy, products, customers, literals) loaded by its bulk
/// path, then pattern-query latency per shape beside the same lookups as plain SQLite SELECTs on a second file holding
/// the same integer triples with the same three indexes, timed query by query in alternation.
/// </summary>
internal static class PatternBench
{
    private const double CustomerShare = 0.4;

    private sealed record Shape(string Name, string Description, Samples Ours, Samples Peer)
    {
        public long Mismatches { get; set; }

        public long Rows { get; set; }
    }

    /// <summary>Loads, queries, prints the table and deletes the temp directory.</summary>
    public static void Run(BenchOptions options, string taxonomyFile)
    {
        var dir = Path.Combine(options.TempDirectory ?? Path.GetTempPath(), "bench-knowledge-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(dir);
        try
        {
            RunIn(dir, options, taxonomyFile);
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
            Console.WriteLine($"deleted {dir}");
        }
    }

    private static void RunIn(string dir, BenchOptions options, string taxonomyFile)
    {
        var storePath = Path.Combine(dir, "store.db");
        var peerPath = Path.Combine(dir, "peer.db");
        Console.WriteLine($"## 2. Pattern queries on a TripleStore of ~{Fmt.N(options.Triples)} triples vs plain SQLite SELECTs on integer triples");
        Console.WriteLine();
        using var store = TripleStore.Open(storePath);
        var taxonomy = TaxonomyImporter.Import(store, taxonomyFile);
        List<long> categoryIds;
        using (var reader = new StreamReader(taxonomyFile, Encoding.UTF8))
        {
            categoryIds = [.. TaxonomyImporter.Parse(reader).Select(c => c.Id)];
        }

        var remaining = Math.Max(0, options.Triples - taxonomy.TriplesAdded);
        var customers = (long)(remaining * CustomerShare / 5);
        var products = (remaining - (customers * 5) + 3) / 4; // rounded up: at least --triples in all

        // ours: one AddRange of everything (the bulk path: SPO written sorted, POS/OSP rebuilt by CREATE INDEX)
        GC.Collect();
        var loadStart = Stopwatch.GetTimestamp();
        var added = store.AddRange(Generate(options.Seed, categoryIds, products, customers));
        var loadSeconds = Stopwatch.GetElapsedTime(loadStart).TotalSeconds;
        var total = store.Count();

        // the peer: the same id triples (read back, not timed) into a plain SQLite table by the same bulk strategy
        var ids = store.MatchIds(0, 0, 0);
        using var peer = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = peerPath, Pooling = false }.ToString());
        peer.Open();
        Exec(peer, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY; PRAGMA cache_size=-65536;");
        Exec(peer, "CREATE TABLE t(s INTEGER NOT NULL, p INTEGER NOT NULL, o INTEGER NOT NULL, PRIMARY KEY (s, p, o)) WITHOUT ROWID;");
        var peerStart = Stopwatch.GetTimestamp();
        using (var tx = peer.BeginTransaction())
        {
            using var insert = peer.CreateCommand();
            insert.Transaction = tx;
            insert.CommandText = "INSERT INTO t(s, p, o) VALUES ($s, $p, $o)";
            var s = insert.Parameters.Add(new SqliteParameter("$s", 0L));
            var p = insert.Parameters.Add(new SqliteParameter("$p", 0L));
            var o = insert.Parameters.Add(new SqliteParameter("$o", 0L));
            insert.Prepare();
            foreach (var r in ids)
            {
                s.Value = r.S;
                p.Value = r.P;
                o.Value = r.O;
                insert.ExecuteNonQuery();
            }

            Exec(peer, "CREATE INDEX t_pos ON t(p, o, s); CREATE INDEX t_osp ON t(o, s, p);", tx);
            tx.Commit();
        }

        var peerLoadSeconds = Stopwatch.GetElapsedTime(peerStart).TotalSeconds;
        var peerCount = ids.Count;
        ids = null;
        GC.Collect();

        // checkpoint both WAL files so both sides read from the main database file
        using (var checkpoint = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = storePath, Pooling = false }.ToString()))
        {
            checkpoint.Open();
            Exec(checkpoint, "PRAGMA wal_checkpoint(TRUNCATE);");
        }

        Exec(peer, "PRAGMA wal_checkpoint(TRUNCATE); ANALYZE;");
        var storeBytes = new FileInfo(storePath).Length;
        var peerBytes = new FileInfo(peerPath).Length;

        var shapes = Measure(options, store, peer, categoryIds, products, customers);
        var all = new Shape("overall", "all shapes together", new Samples(), new Samples());
        foreach (var shape in shapes)
        {
            all.Ours.AddAll(shape.Ours);
            all.Peer.AddAll(shape.Peer);
            all.Mismatches += shape.Mismatches;
            all.Rows += shape.Rows;
        }

        Console.WriteLine("| figure | ours (TripleStore) | SQLite (integer table, same indexes) | ratio (ours ÷ SQLite) |");
        Console.WriteLine("|---|---|---|---|");
        Console.WriteLine($"| triples | {Fmt.N(total)} | {Fmt.N(peerCount)} | |");
        Console.WriteLine($"| bulk load of {Fmt.N(added)} triples (s) | {loadSeconds:0.0} | {peerLoadSeconds:0.0} | {Fmt.Ratio(loadSeconds / peerLoadSeconds)} |");
        Console.WriteLine($"| load rate (triples/s) | {Fmt.N((long)(added / loadSeconds))} | {Fmt.N((long)(added / peerLoadSeconds))} | {Fmt.Ratio(peerLoadSeconds / loadSeconds)} (rate ratio) |");
        Console.WriteLine($"| file size after checkpoint (MB) | {storeBytes / 1e6:0} (with the term dictionary) | {peerBytes / 1e6:0} | |");
        Console.WriteLine();
        Console.WriteLine("| shape | queries | avg rows | ours p50 ms | ours p95 ms | ours p99 ms | ours max ms | SQLite p50 ms | SQLite p95 ms | SQLite p99 ms | SQLite max ms | p50 ratio | p99 ratio | row-count mismatches |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var shape in shapes.Append(all))
        {
            Console.WriteLine($"| {shape.Name}: {shape.Description} | {Fmt.N(shape.Ours.Count)} | {(double)shape.Rows / Math.Max(1, shape.Ours.Count):0.0} | "
                + $"{Fmt.Ms(shape.Ours.Quantile(0.5))} | {Fmt.Ms(shape.Ours.Quantile(0.95))} | {Fmt.Ms(shape.Ours.Quantile(0.99))} | {Fmt.Ms(shape.Ours.Max)} | "
                + $"{Fmt.Ms(shape.Peer.Quantile(0.5))} | {Fmt.Ms(shape.Peer.Quantile(0.95))} | {Fmt.Ms(shape.Peer.Quantile(0.99))} | {Fmt.Ms(shape.Peer.Max)} | "
                + $"{Fmt.Ratio(shape.Ours.Quantile(0.5) / shape.Peer.Quantile(0.5))} | {Fmt.Ratio(shape.Ours.Quantile(0.99) / shape.Peer.Quantile(0.99))} | {shape.Mismatches} |");
        }

        Console.WriteLine();
        var p99 = all.Ours.Quantile(0.99);
        Console.WriteLine($"goal pattern-query p99 ≤ 5 ms at {Fmt.N(total)} triples: {(p99 <= 5 ? "MET" : "NOT MET")} (overall p99 {Fmt.Ms(p99)} ms; worst shape p99 "
            + $"{Fmt.Ms(shapes.Max(s => s.Ours.Quantile(0.99)))} ms){(total < 10_000_000 ? " — note: fewer than 10M triples in this run" : "")}");
        Console.WriteLine($"data: taxonomy {Fmt.N(taxonomy.TriplesAdded)} triples, {Fmt.N(products)} products (type, inCategory, brand text, price number), "
            + $"{Fmt.N(customers)} customers (type, age number, 3 interestedIn); ours: QueryEngine (GraphQuery API; Cypher text parsed per query for the path shape), "
            + "results decoded to terms, distinct and sorted; SQLite: Microsoft.Data.Sqlite prepared SELECT with integer ids resolved before timing, rows read as integers.");
        Console.WriteLine(Settings.Load());
        Console.WriteLine();
    }

    private static IEnumerable<Triple> Generate(int seed, List<long> categoryIds, long products, long customers)
    {
        var random = new Random(seed + 1);
        var categories = categoryIds.Select(TaxonomyImporter.Node).ToArray();
        var brands = Enumerable.Range(0, 2_000).Select(i => Term.Text("brand " + i.ToString(CultureInfo.InvariantCulture))).ToArray();
        var ages = Enumerable.Range(0, 100).Select(i => Term.Number(i)).ToArray();
        Term price = Term.Name("price"), brand = Term.Name("brand"), age = Term.Name("age");
        for (long i = 0; i < products; i++)
        {
            var product = ProductNode(i);
            yield return new Triple(product, Vocabulary.Type, Vocabulary.ProductClass);
            yield return new Triple(product, Vocabulary.InCategory, categories[random.Next(categories.Length)]);
            yield return new Triple(product, brand, brands[random.Next(brands.Length)]);
            yield return new Triple(product, price, Term.Number(random.Next(100, 100_000) / 100.0));
        }

        var chosen = new int[3];
        for (long i = 0; i < customers; i++)
        {
            var customer = CustomerNode(i);
            yield return new Triple(customer, Vocabulary.Type, Vocabulary.CustomerClass);
            yield return new Triple(customer, age, ages[random.Next(18, 81)]);
            for (var k = 0; k < chosen.Length; k++)
            {
                int pick;
                do
                {
                    pick = random.Next(categories.Length);
                }
                while (Array.IndexOf(chosen, pick, 0, k) >= 0);
                chosen[k] = pick;
                yield return new Triple(customer, Vocabulary.InterestedIn, categories[pick]);
            }
        }
    }

    private static Term ProductNode(long i) => Term.Name("product:" + i.ToString(CultureInfo.InvariantCulture));

    private static Term CustomerNode(long i) => Term.Name("customer:" + i.ToString(CultureInfo.InvariantCulture));

    private static List<Shape> Measure(BenchOptions options, TripleStore store, SqliteConnection peer, List<long> categoryIds, long products, long customers)
    {
        var engine = new QueryEngine(store);
        var random = new Random(options.Seed + 2);
        long Id(Term term) => store.TryGetId(term, out var id) ? id : throw new InvalidOperationException($"{term} is not in the store.");
        long inCategory = Id(Vocabulary.InCategory), interestedIn = Id(Vocabulary.InterestedIn), subClassOf = Id(Vocabulary.SubClassOf);

        using var subject = Command(peer, "SELECT p, o FROM t WHERE s = $a ORDER BY p, o", 1);
        using var predicateObject = Command(peer, "SELECT s FROM t WHERE p = $a AND o = $b ORDER BY s", 2);
        using var twoHop = Command(peer, "SELECT a.o, b.s FROM t a JOIN t b ON b.p = $c AND b.o = a.o WHERE a.s = $a AND a.p = $b ORDER BY a.o, b.s", 3);
        using var path = Command(
            peer,
            "WITH RECURSIVE r(n, d) AS (SELECT s, 1 FROM t WHERE p = $a AND o = $b UNION SELECT t.s, r.d + 1 FROM r JOIN t ON t.p = $a AND t.o = r.n WHERE r.d < 3) "
            + "SELECT DISTINCT n FROM r ORDER BY n",
            2);

        var shapes = new List<(Shape Shape, Func<(Func<int> Ours, Func<int> Peer)> Next)>
        {
            (new Shape("subject", "`(customer:N ?p ?o)`", new Samples(), new Samples()), () =>
            {
                var node = (random.Next(2) == 0 && customers > 0) || products == 0 ? CustomerNode(random.NextInt64(customers)) : ProductNode(random.NextInt64(products));
                var query = new GraphQuery
                {
                    Patterns = { new TriplePattern(QueryTerm.Const(node), QueryTerm.Var("p"), QueryTerm.Var("o")) },
                    Projections = { new Projection("p", QueryTerm.Var("p")), new Projection("o", QueryTerm.Var("o")) },
                };
                var id = Id(node);
                return (() => engine.Execute(query).Rows.Count, () => Rows(subject, id));
            }),
            (new Shape("predicate+object", "`(?p inCategory taxonomy:N)`", new Samples(), new Samples()), () =>
            {
                var category = TaxonomyImporter.Node(categoryIds[random.Next(categoryIds.Count)]);
                var query = new GraphQuery
                {
                    Patterns = { new TriplePattern(QueryTerm.Var("p"), QueryTerm.Const(Vocabulary.InCategory), QueryTerm.Const(category)) },
                    Projections = { new Projection("p", QueryTerm.Var("p")) },
                };
                var id = Id(category);
                return (() => engine.Execute(query).Rows.Count, () => Rows(predicateObject, inCategory, id));
            }),
            (new Shape("2-hop join", "`(customer:N interestedIn ?c) (?p inCategory ?c)`", new Samples(), new Samples()), () =>
            {
                var node = CustomerNode(random.NextInt64(Math.Max(1, customers)));
                var query = new GraphQuery
                {
                    Patterns =
                    {
                        new TriplePattern(QueryTerm.Const(node), QueryTerm.Const(Vocabulary.InterestedIn), QueryTerm.Var("c")),
                        new TriplePattern(QueryTerm.Var("p"), QueryTerm.Const(Vocabulary.InCategory), QueryTerm.Var("c")),
                    },
                    Projections = { new Projection("c", QueryTerm.Var("c")), new Projection("p", QueryTerm.Var("p")) },
                };
                var id = Id(node);
                return (() => engine.Execute(query).Rows.Count, () => Rows(twoHop, id, interestedIn, inCategory));
            }),
            (new Shape("path", "Cypher `MATCH (d)-[:SUBCLASS_OF*1..3]->(a {id:'taxonomy:N'}) RETURN d`", new Samples(), new Samples()), () =>
            {
                var googleId = categoryIds[random.Next(categoryIds.Count)];
                var cypher = "MATCH (d)-[:SUBCLASS_OF*1..3]->(a {id:'taxonomy:" + googleId.ToString(CultureInfo.InvariantCulture) + "'}) RETURN d";
                var id = Id(TaxonomyImporter.Node(googleId));
                return (() => engine.Execute(cypher).Rows.Count, () => Rows(path, subClassOf, id));
            }),
        };

        // warm-up: every shape on both sides
        foreach (var (_, next) in shapes)
        {
            for (var i = 0; i < options.Warmup; i++)
            {
                var (ours, theirs) = next();
                ours();
                theirs();
            }
        }

        // measured: per query, both sides back to back, the order alternating
        foreach (var (shape, next) in shapes)
        {
            for (var i = 0; i < options.Queries; i++)
            {
                var (ours, theirs) = next();
                int ourRows, peerRows;
                if (i % 2 == 0)
                {
                    (ourRows, var t) = Time(ours);
                    shape.Ours.Add(t);
                    (peerRows, t) = Time(theirs);
                    shape.Peer.Add(t);
                }
                else
                {
                    (peerRows, var t) = Time(theirs);
                    shape.Peer.Add(t);
                    (ourRows, t) = Time(ours);
                    shape.Ours.Add(t);
                }

                shape.Rows += ourRows;
                if (ourRows != peerRows)
                {
                    shape.Mismatches++;
                }
            }
        }

        return [.. shapes.Select(s => s.Shape)];
    }

    private static (int Rows, long Ticks) Time(Func<int> run)
    {
        var start = Stopwatch.GetTimestamp();
        var rows = run();
        return (rows, Stopwatch.GetTimestamp() - start);
    }

    private static SqliteCommand Command(SqliteConnection connection, string sql, int parameters)
    {
        var command = connection.CreateCommand();
        command.CommandText = sql;
        for (var i = 0; i < parameters; i++)
        {
            command.Parameters.Add(new SqliteParameter("$" + (char)('a' + i), 0L));
        }

        command.Prepare();
        return command;
    }

    private static int Rows(SqliteCommand command, params long[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i];
        }

        var rows = 0;
        using var reader = command.ExecuteReader();
        var columns = reader.FieldCount;
        long sink = 0;
        while (reader.Read())
        {
            for (var c = 0; c < columns; c++)
            {
                sink ^= reader.GetInt64(c);
            }

            rows++;
        }

        GC.KeepAlive(sink);
        return rows;
    }

    private static void Exec(SqliteConnection connection, string sql, SqliteTransaction? tx = null)
    {
        using var command = connection.CreateCommand();
        command.Transaction = tx;
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }
}
