using System.Runtime.CompilerServices;

namespace EdgeProfile.Knowledge.Rules;

/// <summary>
/// Runs join plans over encoded tables (one <see cref="Table"/> per predicate id): scans read row ranges (all visible
/// rows, the old rows or the delta) through per-step hash indexes, bind slots of 64-bit codes, filter with comparisons
/// on the codes, and append new head rows with a compact provenance record (plan, variant, premise row ids, the key
/// values of negated atoms). Rows a round adds stay invisible to scans until the round ends, so
/// <see cref="EvaluateStratum"/> is semi-naive forward chaining to a fixpoint without a separate pending buffer.
/// </summary>
internal sealed class Executor
{
    private const int BatchSize = 64;
    private const long ParallelWork = 200_000;

    private readonly Table[] tables;
    private readonly Symbols symbols;
    private readonly Dictionary<int, Table> tupleSets = [];
    private readonly HashSet<long> premiseSeen = [];
    private readonly LongBuffer batchRecords = new(1024);
    private readonly int[] batchStarts = new int[BatchSize + 1];
    private long[] batchRows = new long[BatchSize * 4];
    private int batchCount;
    private long touched;
    private Candidates? sink;

    private RulePlan plan = null!;
    private int variantIndex;
    private Step[] premiseOrder = [];
    private long[] slots = new long[8];
    private int[] matched = new int[8];
    private LongBuffer[] aggregatePremises = [];
    private RowIndex?[] stepIndexes = [];

    // Current aggregate (aggregates do not nest).
    private Step[] aggregateScans = [];
    private int[] aggregateTargets = [];
    private bool aggregateSum;
    private Table? aggregateTuples;
    private LongBuffer aggregateBuffer = null!;
    private long aggregateCount;
    private double aggregateTotal;

    public Executor(Table[] tables, Symbols symbols)
    {
        this.tables = tables;
        this.symbols = symbols;
    }

    public void EvaluateStratum(IReadOnlyList<RulePlan> rules, IReadOnlyList<int> headPredicateIds, bool recursive)
    {
        if (!recursive && rules.Count > 1 && Environment.ProcessorCount > 1 && Work(rules) >= ParallelWork)
        {
            RunInParallel(rules);
        }
        else
        {
            foreach (var rule in rules)
            {
                Run(rule, 0);
            }
        }

        while (true)
        {
            var grew = false;
            foreach (var id in headPredicateIds)
            {
                var t = tables[id];
                t.DeltaStart = t.Visible;
                grew |= t.Count > t.Visible;
                t.Visible = t.Count;
            }

            if (!grew || !recursive)
            {
                break;
            }

            foreach (var rule in rules)
            {
                for (var k = 0; k < rule.DeltaVariants.Count; k++)
                {
                    var t = tables[rule.DeltaVariants[k].DeltaPredicateId];
                    if (t.DeltaStart < t.Visible)
                    {
                        Run(rule, k + 1);
                    }
                }
            }
        }
    }

    /// <summary>The rows the rules' scans may read (a rough size of the stratum's work).</summary>
    private long Work(IReadOnlyList<RulePlan> rules)
    {
        long rows = 0;
        foreach (var rule in rules)
        {
            foreach (var s in rule.AllSteps())
            {
                if (s.Kind == StepKind.Scan)
                {
                    rows += tables[s.PredicateId].Visible;
                }
            }
        }

        return rows;
    }

    /// <summary>
    /// A non-recursive stratum's rules read only lower strata, so their joins can run at once on several threads, each
    /// rule's head rows and provenance buffered in emission order; the buffers are then added rule by rule, which gives
    /// the same rows, order and first derivations as running the rules one after the other.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunInParallel(IReadOnlyList<RulePlan> rules)
    {
        var outputs = new Candidates[rules.Count];
        Parallel.For(
            0,
            rules.Count,
            new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount },
            () => new Executor(tables, symbols),
            (k, _, worker) =>
            {
                worker.sink = outputs[k] = new Candidates(rules[k].Head.Length);
                worker.Run(rules[k], 0);
                worker.sink = null;
                return worker;
            },
            _ => { });

        // The buffers tell how many rows may come: size each head table once.
        var expected = new Dictionary<int, int>();
        for (var k = 0; k < rules.Count; k++)
        {
            expected[rules[k].HeadPredicateId] = expected.GetValueOrDefault(rules[k].HeadPredicateId) + outputs[k].Count;
        }

        foreach (var (id, rows) in expected)
        {
            tables[id].Reserve(rows);
        }

        Span<int> hashes = stackalloc int[BatchSize];
        for (var k = 0; k < rules.Count; k++)
        {
            var table = tables[rules[k].HeadPredicateId];
            var output = outputs[k];
            for (var first = 0; first < output.Count; first += BatchSize)
            {
                var n = Math.Min(BatchSize, output.Count - first);
                for (var i = 0; i < n; i++)
                {
                    hashes[i] = RowHash.Of(output.Row(first + i));
                }

                touched += table.Touch(hashes[..n]);
                for (var i = 0; i < n; i++)
                {
                    var at = table.Add(output.Row(first + i), hashes[i]);
                    if (at >= 0)
                    {
                        table.SetProvenance(at, output.Record(first + i));
                    }
                }
            }
        }
    }

    private void Run(RulePlan rule, int variant)
    {
        plan = rule;
        variantIndex = variant;
        premiseOrder = rule.PremiseOrders[variant];
        if (slots.Length < rule.SlotCount)
        {
            slots = new long[rule.SlotCount];
        }

        if (matched.Length < rule.MatchCount)
        {
            matched = new int[rule.MatchCount];
        }

        if (aggregatePremises.Length < rule.MatchCount)
        {
            var grown = new LongBuffer[rule.MatchCount];
            aggregatePremises.CopyTo(grown, 0);
            for (var k = aggregatePremises.Length; k < grown.Length; k++)
            {
                grown[k] = new LongBuffer();
            }

            aggregatePremises = grown;
        }

        if (batchRows.Length < BatchSize * rule.Head.Length)
        {
            batchRows = new long[BatchSize * rule.Head.Length];
        }

        if (stepIndexes.Length < rule.StepCount)
        {
            stepIndexes = new RowIndex?[rule.StepCount];
        }

        var steps = rule.Variants[variant];
        foreach (var s in steps)
        {
            Prepare(s);
            foreach (var inner in s.Inner)
            {
                Prepare(inner);
            }
        }

        Exec(steps, 0, inner: false);
        Flush();
    }

    private void Prepare(Step s)
    {
        stepIndexes[s.Id] = s.Kind is StepKind.Scan or StepKind.Negate && s.Mask != 0 && !s.FullyBound
            ? tables[s.PredicateId].Index(s.Mask)
            : null;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Exec(Step[] list, int i, bool inner)
    {
        if (i == list.Length)
        {
            if (inner)
            {
                Collect();
            }
            else
            {
                Emit();
            }

            return;
        }

        var step = list[i];
        switch (step.Kind)
        {
            case StepKind.Scan:
                Scan(list, i, step, inner);
                break;
            case StepKind.Compare:
                if (symbols.Compare(step.Left.Get(slots), step.Operator, step.Right.Get(slots)))
                {
                    Exec(list, i + 1, inner);
                }

                break;
            case StepKind.Negate:
                if (!Holds(step))
                {
                    Exec(list, i + 1, inner);
                }

                break;
            default:
                RunAggregate(list, i, step);
                break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Scan(Step[] list, int i, Step step, bool inner)
    {
        var table = tables[step.PredicateId];
        int start = 0, end = table.Visible;
        if (step.Source == Source.Old)
        {
            end = table.DeltaStart;
        }
        else if (step.Source == Source.Delta)
        {
            start = table.DeltaStart;
        }

        if (step.Mask == 0)
        {
            for (var p = start; p < end; p++)
            {
                TryMatch(list, i, step, table, p, inner);
            }

            return;
        }

        var refs = step.KeyRefs;
        Span<long> key = stackalloc long[refs.Length];
        for (var k = 0; k < refs.Length; k++)
        {
            key[k] = refs[k].Get(slots);
        }

        if (step.FullyBound)
        {
            var found = table.Find(key);
            if (found >= start && found < end)
            {
                matched[step.MatchIndex] = found;
                Exec(list, i + 1, inner);
            }

            return;
        }

        var index = stepIndexes[step.Id]!;
        for (var p = index.First(key); p >= 0 && p < end; p = index.Next(p))
        {
            if (p >= start)
            {
                TryMatch(list, i, step, table, p, inner);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void TryMatch(Step[] list, int i, Step step, Table table, int row, bool inner)
    {
        var data = table.Data;
        var offset = row * table.Arity;
        var constants = step.ConstantChecks;
        for (var k = 0; k < constants.Length; k++)
        {
            if (data[offset + constants[k].Position] != constants[k].Code)
            {
                return;
            }
        }

        var binds = step.Binds;
        for (var k = 0; k < binds.Length; k++)
        {
            slots[binds[k].Slot] = data[offset + binds[k].Position];
        }

        var checks = step.Checks;
        for (var k = 0; k < checks.Length; k++)
        {
            if (data[offset + checks[k].Position] != slots[checks[k].Slot])
            {
                return;
            }
        }

        matched[step.MatchIndex] = row;
        Exec(list, i + 1, inner);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private bool Holds(Step step)
    {
        var table = tables[step.PredicateId];
        if (step.Mask == 0 && !step.FullyBound)
        {
            return table.Count > 0;
        }

        var refs = step.KeyRefs;
        Span<long> key = stackalloc long[refs.Length];
        for (var k = 0; k < refs.Length; k++)
        {
            key[k] = refs[k].Get(slots);
        }

        return step.FullyBound ? table.Find(key) >= 0 : stepIndexes[step.Id]!.First(key) >= 0;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunAggregate(Step[] list, int i, Step step)
    {
        aggregateScans = step.InnerScans;
        aggregateTargets = step.TargetSlots;
        aggregateSum = step.Function == AggregateFunction.Sum;
        aggregateBuffer = aggregatePremises[step.MatchIndex];
        aggregateBuffer.Clear();
        aggregateCount = 0;
        aggregateTotal = 0;
        aggregateTuples = null;
        if (!step.DistinctTuples)
        {
            if (!tupleSets.TryGetValue(aggregateTargets.Length, out var set))
            {
                tupleSets[aggregateTargets.Length] = set = new Table("#", aggregateTargets.Length);
            }

            set.Clear();
            aggregateTuples = set;
        }

        if (step.SingleScanAggregate)
        {
            AggregateOneScan(step.Inner);
        }
        else
        {
            Exec(step.Inner, 0, inner: true);
        }

        var value = Symbols.Number(aggregateSum ? aggregateTotal : aggregateCount);
        if (step.BindsResult)
        {
            slots[step.Result.Slot] = value;
        }
        else if (step.Result.Get(slots) != value)
        {
            return;
        }

        Exec(list, i + 1, inner: false);
    }

    /// <summary>An aggregate whose inner body is one scan (then only fully bound lookups) with distinct tuples: count,
    /// sum and premises in one loop over the scan's rows (what <see cref="Exec"/> and <see cref="Collect"/> would do,
    /// without the recursion).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void AggregateOneScan(Step[] inner)
    {
        var scan = inner[0];
        var table = tables[scan.PredicateId];
        var data = table.Data;
        var arity = table.Arity;
        var end = table.Visible;
        var reference = (long)scan.PredicateId << 32;
        var binds = scan.Binds;
        var checks = scan.Checks;
        var constants = scan.ConstantChecks;
        var sumSlot = aggregateSum ? aggregateTargets[0] : -1;
        RowIndex? index = null;
        var p = 0;
        Span<long> key = stackalloc long[32];
        if (scan.Mask != 0)
        {
            var refs = scan.KeyRefs;
            for (var k = 0; k < refs.Length; k++)
            {
                key[k] = refs[k].Get(slots);
            }

            index = stepIndexes[scan.Id]!;
            p = index.First(key[..refs.Length]);
        }

        while (p >= 0 && p < end)
        {
            var offset = p * arity;
            var ok = true;
            for (var k = 0; k < constants.Length && ok; k++)
            {
                ok = data[offset + constants[k].Position] == constants[k].Code;
            }

            if (ok)
            {
                for (var k = 0; k < binds.Length; k++)
                {
                    slots[binds[k].Slot] = data[offset + binds[k].Position];
                }

                for (var k = 0; k < checks.Length && ok; k++)
                {
                    ok = data[offset + checks[k].Position] == slots[checks[k].Slot];
                }
            }

            for (var s = 1; s < inner.Length && ok; s++)
            {
                var lookup = inner[s];
                var other = tables[lookup.PredicateId];
                var refs = lookup.KeyRefs;
                for (var k = 0; k < refs.Length; k++)
                {
                    key[k] = refs[k].Get(slots);
                }

                var found = other.Find(key[..refs.Length]);
                ok = found >= 0 && found < other.Visible;
                matched[lookup.MatchIndex] = found;
            }

            if (ok)
            {
                aggregateCount++;
                if (sumSlot >= 0 && !Symbols.IsText(slots[sumSlot]))
                {
                    aggregateTotal += Symbols.NumberOf(slots[sumSlot]);
                }

                aggregateBuffer.Add(reference | (uint)p);
                for (var s = 1; s < inner.Length; s++)
                {
                    aggregateBuffer.Add(((long)inner[s].PredicateId << 32) | (uint)matched[inner[s].MatchIndex]);
                }
            }

            p = index is null ? p + 1 : index.Next(p);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Collect()
    {
        var targets = aggregateTargets;
        var isNew = true;
        if (aggregateTuples is not null)
        {
            Span<long> tuple = stackalloc long[targets.Length];
            for (var k = 0; k < targets.Length; k++)
            {
                tuple[k] = slots[targets[k]];
            }

            isNew = aggregateTuples.Add(tuple) >= 0;
        }

        if (isNew)
        {
            aggregateCount++;
            if (aggregateSum)
            {
                var v = slots[targets[0]];
                if (!Symbols.IsText(v))
                {
                    aggregateTotal += Symbols.NumberOf(v);
                }
            }
        }

        foreach (var s in aggregateScans)
        {
            aggregateBuffer.Add(((long)s.PredicateId << 32) | (uint)matched[s.MatchIndex]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Emit()
    {
        var head = plan.Head;
        if (batchCount == BatchSize)
        {
            Flush();
        }

        var arity = head.Length;
        var offset = batchCount * arity;
        for (var k = 0; k < arity; k++)
        {
            batchRows[offset + k] = head[k].Get(slots);
        }

        var record = batchRecords;
        batchStarts[batchCount++] = record.Count;
        record.Add(((long)plan.Index << 20) | (uint)variantIndex);
        foreach (var s in premiseOrder)
        {
            switch (s.Kind)
            {
                case StepKind.Scan:
                    record.Add(((long)s.PredicateId << 32) | (uint)matched[s.MatchIndex]);
                    break;
                case StepKind.Negate:
                    foreach (var r in s.KeyRefs)
                    {
                        record.Add(r.Get(slots));
                    }

                    break;
                case StepKind.Aggregate:
                    var premises = aggregatePremises[s.MatchIndex];
                    if (s.InnerScans.Length <= 1)
                    {
                        record.Add(premises.Count);
                        record.AddRange(premises.Span(0, premises.Count));
                        break;
                    }

                    premiseSeen.Clear();
                    var countAt = record.Count;
                    record.Add(0);
                    var n = 0;
                    for (var k = 0; k < premises.Count; k++)
                    {
                        if (premiseSeen.Add(premises[k]))
                        {
                            record.Add(premises[k]);
                            n++;
                        }
                    }

                    record.Set(countAt, n);
                    break;
            }
        }
    }

    /// <summary>
    /// Adds the buffered head rows to the head table in emission order (so first derivations and row order are as if
    /// each were added when emitted: no scan reads rows of the current round). The hash slots of the whole batch are
    /// read first, so their cache misses overlap instead of stalling one after the other.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Flush()
    {
        if (batchCount == 0)
        {
            return;
        }

        var table = tables[plan.HeadPredicateId];
        var arity = table.Arity;
        var rows = batchRows.AsSpan();
        batchStarts[batchCount] = batchRecords.Count;
        if (sink is not null)
        {
            for (var i = 0; i < batchCount; i++)
            {
                sink.Add(rows.Slice(i * arity, arity), batchRecords.Span(batchStarts[i], batchStarts[i + 1] - batchStarts[i]));
            }

            batchCount = 0;
            batchRecords.Clear();
            return;
        }

        Span<int> hashes = stackalloc int[batchCount];
        for (var i = 0; i < batchCount; i++)
        {
            hashes[i] = RowHash.Of(rows.Slice(i * arity, arity));
        }

        touched += table.Touch(hashes);
        for (var i = 0; i < batchCount; i++)
        {
            var at = table.Add(rows.Slice(i * arity, arity), hashes[i]);
            if (at >= 0)
            {
                table.SetProvenance(at, batchRecords.Span(batchStarts[i], batchStarts[i + 1] - batchStarts[i]));
            }
        }

        batchCount = 0;
        batchRecords.Clear();
    }
}

/// <summary>Head rows a rule emitted, in emission order, with their provenance records, before they are added (fixed
/// chunks: appending never copies).</summary>
internal sealed class Candidates
{
    private const int ChunkRows = 8192;
    private readonly int arity;
    private readonly List<long[]> rows = [];
    private readonly List<int[]> addresses = [];
    private readonly RecordStore records = new();

    public Candidates(int arity) => this.arity = arity;

    public int Count { get; private set; }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Add(ReadOnlySpan<long> row, ReadOnlySpan<long> record)
    {
        var at = Count % ChunkRows;
        if (at == 0)
        {
            rows.Add(new long[ChunkRows * arity]);
            addresses.Add(new int[ChunkRows]);
        }

        row.CopyTo(rows[^1].AsSpan(at * arity, arity));
        addresses[^1][at] = records.Append(record);
        Count++;
    }

    public ReadOnlySpan<long> Row(int index) => rows[index / ChunkRows].AsSpan(index % ChunkRows * arity, arity);

    public ReadOnlySpan<long> Record(int index) => records.Get(addresses[index / ChunkRows][index % ChunkRows]);
}
