using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace EdgeProfile.Models.Explaining;

/// <summary>
/// An MMoE model (<see cref="ModelWeights"/>, any architecture <see cref="Reference.ReferenceModel"/> handles) as an
/// explained function in double precision, with a fast exact path for the value of every coalition.
/// Outputs are all tasks' outputs in task order (probabilities for binary and multi-label tasks, raw values for
/// regression): the numbers of <see cref="Reference.ReferenceModel.Forward"/>, flattened.
/// </summary>
/// <remarks>
/// <para>The input transform (<c>log1p</c> where flagged, then <c>(v − mean) / std</c>) is per feature, so mixing
/// features of x and a background row commutes with it. Everything that reads the standardised input z directly is
/// linear in it: the experts' first layers and the gates (or, when experts have no layers, the towers' first layers,
/// since the mixture is then z itself). For background row k the pre-activations of coalition S are therefore
/// <c>A_k + Σ_{g∈S} D_{k,g}</c> with <c>A_k = z(b_k)·W + bias</c> and <c>D_{k,g} = Σ_{i∈g} (z(x)_i − z(b_k)_i)·W_i</c>.</para>
/// <para><see cref="CoalitionValues"/> builds, per background row, a table of the sums over the low (up to 5) groups'
/// subsets, and for each block of 32 coalitions (those sharing the high groups) adds the high groups' sum once, then
/// runs the rest of the network for the 32 coalitions at a time with SIMD across coalitions (weights broadcast, one
/// vector lane per coalition; the buffers of a block stay in L1). A table per mask was chosen over a Gray-code walk:
/// the same one vector addition per pre-activation and coalition, but each pre-activation is a sum of at most M terms
/// in a fixed order (no rounding drift as with incremental updates) and blocks are independent (parallel,
/// deterministic). The exponentials of the gates and sigmoids use a vectorised <c>e^x</c> accurate to a few ulp.</para>
/// <para>Where 512-bit vectors are accelerated (<see cref="MmoeKernels"/>) the same operations run in the same order
/// on four <c>Vector512</c> per block, so results do not depend on the path: dense layers with a 4 × 32 register tile,
/// ReLU applied while adding the tables, the high groups' sum kept in registers, and for one task with one-layer
/// experts the mixture read straight from the tables. Coalitions are then visited in chunks of blocks with the
/// background rows as the outer loop inside a chunk (one row's tables stay in L1), adding each row's weighted outputs
/// into the values in row order.</para>
/// <para>Not thread-safe for concurrent calls on one instance (callers serialise, as <see cref="IExplainedFunction"/>
/// says); <see cref="MaxDegreeOfParallelism"/> parallelises one call internally, with identical results.</para>
/// </remarks>
public sealed class MmoeFunction : IExplainedFunction, ICoalitionValues, ICoalitionSampleValues
{
    /// <summary>Groups per table of <see cref="SampledCoalitionValues"/> (a table holds the sums of all their subsets).</summary>
    private const int SampleChunkBits = 4;

    /// <summary>Coalitions (or rows) processed together by the SIMD tail.</summary>
    private const int Lanes = 32;

    /// <summary>Groups enumerated through the per-row table (2^LowBits = <see cref="Lanes"/>).</summary>
    private const int LowBits = 5;

    private const int MaxGroups = 30;

    /// <summary>Blocks per chunk of the AVX-512 coalition path (2,048 coalitions).</summary>
    private const int ChunkBlocks = 64;

    private readonly int experts;
    private readonly bool hasExpertLayers;
    private readonly bool[] log1p;
    private readonly double[] mean;
    private readonly double[] std;

    // The linear stage: z · W + B, W row-major [Inputs, P].
    private readonly Layer linear;

    // Mode with expert layers: the first layers of all experts (columns e·H0 …), then the gates (gateOffset + t·E + e).
    private readonly int expertWidth0;
    private readonly int gateOffset;
    private readonly Layer[][] deepExperts;

    // Towers: with expert layers all layers; without, layers from the second on (the first is in the linear stage at
    // towerOffset[t]).
    private readonly Layer[][] towers;
    private readonly int[] towerOffset;
    private readonly int[] outputOffset;
    private readonly bool[] sigmoid;
    private readonly int expertOutputs;
    private readonly int maxWidth;

    // The leading columns of the linear stage the tail rectifies (all its ReLUs there when reluComplete): the coalition
    // path applies ReLU while adding the tables and tells the tail to skip it.
    private readonly int reluWidth;
    private readonly bool reluComplete;

    // One task, several one-layer experts: the coalition path mixes the experts straight from the tables.
    private readonly bool fusedMixture;
    private SampleBuffers? sampleBuffers;
    private int parallelism = 1;

    /// <summary>Validates the weights and prepares double-precision copies of them.</summary>
    /// <exception cref="InvalidDataException">The weights do not match their spec.</exception>
    public MmoeFunction(ModelWeights weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        weights.Validate();
        Weights = weights;
        var spec = weights.Spec;
        Inputs = spec.Inputs;
        experts = spec.Experts;
        hasExpertLayers = spec.ExpertHidden.Count > 0;
        log1p = [.. Enumerable.Range(0, Inputs).Select(i => weights.Log1p is { } f && f[i])];
        mean = [.. weights.Mean.Select(v => (double)v)];
        std = [.. weights.Std.Select(v => (double)v)];
        expertOutputs = spec.ExpertOutputs;
        int tasks = spec.Tasks.Count;

        outputOffset = new int[tasks];
        sigmoid = new bool[tasks];
        int outputs = 0;
        for (int t = 0; t < tasks; t++)
        {
            outputOffset[t] = outputs;
            outputs += spec.Tasks[t].Outputs;
            sigmoid[t] = spec.Tasks[t].Kind is TaskKind.Binary or TaskKind.MultiLabel;
        }

        Outputs = outputs;
        towerOffset = new int[tasks];
        var columns = new List<DenseWeights>();
        if (hasExpertLayers)
        {
            expertWidth0 = spec.ExpertHidden[0];
            columns.AddRange(weights.Experts.Select(e => e[0]));
            gateOffset = experts * expertWidth0;
            if (experts > 1)
            {
                columns.AddRange(weights.Gates);
            }

            deepExperts = [.. weights.Experts.Select(e => e.Skip(1).Select(ToLayer).ToArray())];
            towers = [.. weights.Towers.Select(t => t.Select(ToLayer).ToArray())];
        }
        else
        {
            deepExperts = [];
            int offset = 0;
            for (int t = 0; t < tasks; t++)
            {
                towerOffset[t] = offset;
                offset += weights.Towers[t][0].Out;
                columns.Add(weights.Towers[t][0]);
            }

            towers = [.. weights.Towers.Select(t => t.Skip(1).Select(ToLayer).ToArray())];
        }

        linear = Concatenate(Inputs, columns);
        if (hasExpertLayers)
        {
            (reluWidth, reluComplete) = (experts * expertWidth0, true);
            fusedMixture = experts > 1 && tasks == 1 && deepExperts.All(d => d.Length == 0);
        }
        else if (towers.All(t => t.Length > 0))
        {
            (reluWidth, reluComplete) = (linear.Out, true);
        }

        maxWidth = new[] { linear.Out, expertOutputs, Outputs, experts }
            .Concat(deepExperts.SelectMany(l => l).Select(l => l.Out))
            .Concat(towers.SelectMany(l => l).Select(l => l.Out))
            .Max();
    }

    /// <summary>The weights (validated).</summary>
    public ModelWeights Weights { get; }

    /// <inheritdoc />
    public int Inputs { get; }

    /// <inheritdoc />
    public int Outputs { get; }

    /// <summary>Threads <see cref="CoalitionValues"/> and <see cref="Evaluate"/> may use (blocks of 32 coalitions or
    /// rows are spread over them; results do not depend on it). Default 1.</summary>
    public int MaxDegreeOfParallelism
    {
        get => parallelism;
        set => parallelism = value >= 1 ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "must be >= 1");
    }

    /// <inheritdoc />
    public void Evaluate(ReadOnlySpan<double> rows, Span<double> outputs)
    {
        if (rows.Length % Inputs != 0)
        {
            throw new ArgumentException($"rows hold {rows.Length} values, not a multiple of the {Inputs} features", nameof(rows));
        }

        int count = rows.Length / Inputs;
        if (outputs.Length != count * Outputs)
        {
            throw new ArgumentException($"outputs need {count * Outputs} values for {count} rows, have {outputs.Length}", nameof(outputs));
        }

        int blocks = (count + Lanes - 1) / Lanes;
        int workers = Math.Min(MaxDegreeOfParallelism, blocks);
        if (workers <= 1)
        {
            var scratch = new Scratch(this);
            for (int block = 0; block < blocks; block++)
            {
                EvaluateBlock(rows, count, block, scratch, outputs);
            }

            return;
        }

        // Spans cannot cross into the workers: copy in and out.
        double[] input = rows.ToArray();
        double[] result = new double[outputs.Length];
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, worker =>
        {
            var scratch = new Scratch(this);
            for (int block = worker; block < blocks; block += workers)
            {
                EvaluateBlock(input, count, block, scratch, result);
            }
        });
        result.CopyTo(outputs);
    }

    /// <inheritdoc />
    public void CoalitionValues(ReadOnlySpan<double> x, Background background, FeatureGroups groups, Span<double> values)
    {
        ArgumentNullException.ThrowIfNull(background);
        ArgumentNullException.ThrowIfNull(groups);
        if (x.Length != Inputs || background.Inputs != Inputs || groups.Inputs != Inputs)
        {
            throw new ArgumentException($"x ({x.Length}), background ({background.Inputs}) and groups ({groups.Inputs}) must all have {Inputs} features");
        }

        int m = groups.Count;
        if (m > MaxGroups)
        {
            throw new ArgumentException($"{m} groups: at most {MaxGroups} can be enumerated", nameof(groups));
        }

        long coalitions = 1L << m;
        if (values.Length != coalitions * Outputs)
        {
            throw new ArgumentException($"values need {coalitions * Outputs} entries (2^{m} × {Outputs}), have {values.Length}", nameof(values));
        }

        var job = PrepareCoalitions(x, background, groups);
        int blocks = 1 << job.High;
        int workers = Math.Min(MaxDegreeOfParallelism, blocks);
        if (workers <= 1)
        {
            var scratch = new Scratch(this);
            if (MmoeKernels.Enabled)
            {
                values.Clear();
                WideCoalitions(job, 0, blocks, scratch, values);
                return;
            }

            for (int block = 0; block < blocks; block++)
            {
                CoalitionBlock(job, block, scratch, values);
            }

            return;
        }

        if (MmoeKernels.Enabled)
        {
            WideInParallel(job, workers, values);
            return;
        }

        // Each block writes its own coalitions and sums the background rows in the same order: identical results.
        double[] result = new double[values.Length];
        Parallel.For(0, workers, new ParallelOptions { MaxDegreeOfParallelism = workers }, worker =>
        {
            var scratch = new Scratch(this);
            for (int block = worker; block < blocks; block += workers)
            {
                CoalitionBlock(job, block, scratch, result);
            }
        });
        result.CopyTo(values);
    }

    /// <summary>
    /// The values of the given coalitions, for KernelSHAP and LIME. Per background row k the pre-activations of
    /// coalition S are <c>A_k + Σ_{g∈S} D_{k,g}</c> (see the remarks); the groups are cut into chunks of four, and a
    /// table per chunk holds the sums of its 16 subsets, so a coalition's pre-activations are at most one table row per
    /// chunk added to <c>A_k</c>, with no input row built or standardised. Then the network's tail runs for 32
    /// coalitions at a time, and each coalition adds <c>w_k · f</c> over the rows in order. Background rows are the
    /// outer loop, so one row's tables stay in cache while every coalition is visited.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void SampledCoalitionValues(ReadOnlySpan<double> x, Background background, FeatureGroups groups, ReadOnlySpan<bool> members, Span<double> values)
    {
        ArgumentNullException.ThrowIfNull(background);
        ArgumentNullException.ThrowIfNull(groups);
        if (x.Length != Inputs || background.Inputs != Inputs || groups.Inputs != Inputs)
        {
            throw new ArgumentException($"x ({x.Length}), background ({background.Inputs}) and groups ({groups.Inputs}) must all have {Inputs} features");
        }

        int m = groups.Count;
        if (members.Length % m != 0)
        {
            throw new ArgumentException($"{members.Length} membership flags are not a whole number of coalitions of {m} groups", nameof(members));
        }

        int coalitions = members.Length / m;
        if (values.Length < coalitions * Outputs)
        {
            throw new ArgumentException($"values need {coalitions * Outputs} entries ({coalitions} coalitions × {Outputs}), have {values.Length}", nameof(values));
        }

        int p = linear.Out;
        int chunks = (m + SampleChunkBits - 1) / SampleChunkBits;
        const int Codes = 1 << SampleChunkBits;
        // Buffers are kept between calls (callers serialise): KernelSHAP calls once per background row.
        var buffers = sampleBuffers is { } kept && kept.Chunks == chunks && kept.Codes.Length >= coalitions * chunks
            ? kept
            : sampleBuffers = new SampleBuffers(this, chunks, Math.Max(coalitions, sampleBuffers?.Complement.Length ?? 0));
        var codes = buffers.Codes.AsSpan(0, coalitions * chunks);
        codes.Clear();
        for (int c = 0; c < coalitions; c++)
        {
            // Branch-free: a bool is one byte, 0 or 1 (random memberships would mispredict every other branch).
            var flags = MemoryMarshal.AsBytes(members.Slice(c * m, m));
            var code = codes.Slice(c * chunks, chunks);
            for (int g = 0; g < m; g++)
            {
                code[g / SampleChunkBits] |= (byte)(flags[g] << (g % SampleChunkBits));
            }
        }

        // A coalition right after its complement (as KernelSHAP lays out its sampled pairs) takes
        // A_k + Σ_{g∉S} D_{k,g} = (A_k + pre(all)) − pre(S): one subtraction instead of a sum per chunk.
        var complement = buffers.Complement.AsSpan(0, coalitions);
        complement.Clear();
        for (int c = 1; c < coalitions; c++)
        {
            bool flipped = true;
            for (int ch = 0; ch < chunks && flipped; ch++)
            {
                int bits = Math.Min(SampleChunkBits, m - (ch * SampleChunkBits));
                int mask = (1 << bits) - 1;
                flipped = codes[(c * chunks) + ch] == (~codes[((c - 1) * chunks) + ch] & mask);
            }

            complement[c] = flipped && !complement[c - 1];
        }

        // A_k and D_{k,g} as the exact path computes them.
        var job = PrepareCoalitions(x, background, groups, lowTable: false);
        var full = buffers.Full;
        var table = buffers.Table;
        var rows = buffers.Rows;
        var s = buffers.Scratch;
        var pre = s.Pre;
        var output = s.Out;
        var sum = values[..(coalitions * Outputs)];
        sum.Clear();
        for (int r = 0; r < background.Count; r++)
        {
            var a = job.A.AsSpan(r * p, p);
            var d = job.D.AsSpan(r * m * p, m * p);

            // Table [chunk][code][p]: the sum of the chunk's groups in code, built from the code without its lowest bit.
            for (int ch = 0; ch < chunks; ch++)
            {
                var t = table.AsSpan(ch * Codes * p, Codes * p);
                t[..p].Clear();
                for (int code = 1; code < Codes; code++)
                {
                    int lowest = code & -code;
                    int g = (ch * SampleChunkBits) + System.Numerics.BitOperations.TrailingZeroCount(lowest);
                    var target = t.Slice(code * p, p);
                    var rest = t.Slice((code ^ lowest) * p, p);
                    if (g >= m)
                    {
                        rest.CopyTo(target);
                        continue;
                    }

                    var dg = d.Slice(g * p, p);
                    for (int j = 0; j < p; j++)
                    {
                        target[j] = rest[j] + dg[j];
                    }
                }
            }

            // full = A_k + pre(all): the sum a coalition and its complement's pre-activations make.
            a.CopyTo(full);
            for (int g = 0; g < m; g++)
            {
                for (int j = 0; j < p; j++)
                {
                    full[j] += d[(g * p) + j];
                }
            }

            for (int j = 0; j < p; j++)
            {
                full[j] += a[j];
            }

            double w = background.Weights[r];
            int previous = 3;
            for (int start = 0; start < coalitions; start += Lanes)
            {
                int n = Math.Min(Lanes, coalitions - start);
                for (int lane = 0; lane < Lanes; lane += 4)
                {
                    // Four coalitions' pre-activations side by side, then into the lane-major layout four at a time.
                    for (int q = 0; q < 4; q++)
                    {
                        var target = rows.AsSpan(q * p, p);
                        if (lane + q < n && complement[start + lane + q])
                        {
                            var before = rows.AsSpan(previous * p, p);
                            var bv = MemoryMarshal.Cast<double, Vector<double>>(before);
                            var fv = MemoryMarshal.Cast<double, Vector<double>>(full.AsSpan());
                            var cv = MemoryMarshal.Cast<double, Vector<double>>(target);
                            for (int v = 0; v < cv.Length; v++)
                            {
                                cv[v] = fv[v] - bv[v];
                            }

                            for (int j = cv.Length * Vector<double>.Count; j < p; j++)
                            {
                                target[j] = full[j] - before[j];
                            }

                            previous = q;
                            continue;
                        }

                        previous = q;
                        a.CopyTo(target);
                        if (lane + q >= n)
                        {
                            continue;
                        }

                        var rv = MemoryMarshal.Cast<double, Vector<double>>(target);
                        var code = codes.Slice((start + lane + q) * chunks, chunks);
                        for (int ch = 0; ch < chunks; ch++)
                        {
                            if (code[ch] == 0)
                            {
                                continue;
                            }

                            int at = ((ch * Codes) + code[ch]) * p;
                            var tv = MemoryMarshal.Cast<double, Vector<double>>(table.AsSpan(at, p));
                            for (int v = 0; v < rv.Length; v++)
                            {
                                rv[v] += tv[v];
                            }

                            for (int j = rv.Length * Vector<double>.Count; j < p; j++)
                            {
                                target[j] += table[at + j];
                            }
                        }
                    }

                    MmoeKernels.Transpose4(rows, p, pre, Lanes, lane);
                }

                Tail(s);
                for (int lane = 0; lane < n; lane++)
                {
                    var target = sum.Slice((start + lane) * Outputs, Outputs);
                    for (int o = 0; o < target.Length; o++)
                    {
                        target[o] += w * output[(o * Lanes) + lane];
                    }
                }
            }
        }
    }

    private double Standardise(int i, double value) =>
        ((log1p[i] ? Math.Log(1 + Math.Max(value, 0)) : value) - mean[i]) / std[i];

    /// <summary>Rows <c>block·Lanes …</c> (at most <see cref="Lanes"/>) through the whole network.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void EvaluateBlock(ReadOnlySpan<double> rows, int count, int block, Scratch scratch, Span<double> outputs)
    {
        var z = scratch.Z;
        int first = block * Lanes;
        int n = Math.Min(Lanes, count - first);
        if (n < Lanes)
        {
            Array.Clear(z);
        }

        for (int lane = 0; lane < n; lane++)
        {
            var row = rows.Slice((first + lane) * Inputs, Inputs);
            for (int i = 0; i < Inputs; i++)
            {
                z[(i * Lanes) + lane] = Standardise(i, row[i]);
            }
        }

        Dense(z, linear, scratch.Pre, relu: false);
        Tail(scratch);
        var output = scratch.Out;
        for (int lane = 0; lane < n; lane++)
        {
            var target = outputs.Slice((first + lane) * Outputs, Outputs);
            for (int o = 0; o < target.Length; o++)
            {
                target[o] = output[(o * Lanes) + lane];
            }
        }
    }

    /// <summary>Per background row k: <c>A_k</c>, <c>D_{k,g}</c> and the table of low-group sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private CoalitionJob PrepareCoalitions(ReadOnlySpan<double> x, Background background, FeatureGroups groups, bool lowTable = true)
    {
        int p = linear.Out;
        int k = background.Count;
        int m = groups.Count;
        int low = Math.Min(m, LowBits);
        var job = new CoalitionJob(p, k, m, low, m - low, new double[k * p], new double[k * m * p], lowTable ? new double[k * p * Lanes] : [], background.Weights);
        var zx = new double[Inputs];
        for (int i = 0; i < Inputs; i++)
        {
            zx[i] = Standardise(i, x[i]);
        }

        var zb = new double[Inputs];
        var delta = new double[Inputs];
        for (int r = 0; r < k; r++)
        {
            var row = background.Row(r);
            for (int i = 0; i < Inputs; i++)
            {
                zb[i] = Standardise(i, row[i]);
                delta[i] = zx[i] - zb[i];
            }

            // A_k exactly as the forward pass computes the background row's pre-activations.
            var ar = job.A.AsSpan(r * p, p);
            linear.B.CopyTo(ar);
            for (int i = 0; i < Inputs; i++)
            {
                var wi = linear.W.AsSpan(i * p, p);
                for (int j = 0; j < p; j++)
                {
                    ar[j] += zb[i] * wi[j];
                }
            }

            for (int g = 0; g < m; g++)
            {
                var dg = job.D.AsSpan(((r * m) + g) * p, p);
                foreach (int i in groups.Members[g])
                {
                    var wi = linear.W.AsSpan(i * p, p);
                    for (int j = 0; j < p; j++)
                    {
                        dg[j] += delta[i] * wi[j];
                    }
                }
            }

            // Table [p][Lanes]: lane = subset of the low groups, summed in ascending group order.
            if (!lowTable)
            {
                continue;
            }

            var table = job.Table.AsSpan(r * p * Lanes, p * Lanes);
            for (int lane = 1; lane < (1 << low); lane++)
            {
                for (int j = 0; j < p; j++)
                {
                    double sum = 0;
                    for (int g = 0; g < low; g++)
                    {
                        if ((lane & (1 << g)) != 0)
                        {
                            sum += job.D[(((r * m) + g) * p) + j];
                        }
                    }

                    table[(j * Lanes) + lane] = sum;
                }
            }
        }

        return job;
    }

    /// <summary>The coalitions <c>block·Lanes + lane</c>: pre-activations from the tables, the network's tail, the
    /// weighted sum over background rows, written to <paramref name="values"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void CoalitionBlock(CoalitionJob job, int block, Scratch scratch, Span<double> values)
    {
        int p = job.P;
        int vb = Lanes / Vector<double>.Count;
        var baseRow = scratch.BaseRow;
        var acc = MemoryMarshal.Cast<double, Vector<double>>(scratch.Acc.AsSpan());
        acc.Clear();
        var pre = MemoryMarshal.Cast<double, Vector<double>>(scratch.Pre.AsSpan(0, p * Lanes));
        var output = MemoryMarshal.Cast<double, Vector<double>>(scratch.Out.AsSpan(0, Outputs * Lanes));
        for (int r = 0; r < job.K; r++)
        {
            job.A.AsSpan(r * p, p).CopyTo(baseRow);
            for (int g = 0; g < job.High; g++)
            {
                if ((block & (1 << g)) != 0)
                {
                    var dg = MemoryMarshal.Cast<double, Vector<double>>(job.D.AsSpan(((r * job.M) + job.Low + g) * p, p));
                    var bv = MemoryMarshal.Cast<double, Vector<double>>(baseRow.AsSpan(0, p));
                    for (int j = 0; j < bv.Length; j++)
                    {
                        bv[j] += dg[j];
                    }

                    for (int j = bv.Length * Vector<double>.Count; j < p; j++)
                    {
                        baseRow[j] += job.D[(((r * job.M) + job.Low + g) * p) + j];
                    }
                }
            }

            var table = MemoryMarshal.Cast<double, Vector<double>>(job.Table.AsSpan(r * p * Lanes, p * Lanes));
            for (int j = 0; j < p; j++)
            {
                var b = new Vector<double>(baseRow[j]);
                for (int v = 0; v < vb; v++)
                {
                    pre[(j * vb) + v] = b + table[(j * vb) + v];
                }
            }

            Tail(scratch);
            var w = new Vector<double>(job.Weights[r]);
            for (int n = 0; n < acc.Length; n++)
            {
                acc[n] = Vector.FusedMultiplyAdd(w, output[n], acc[n]);
            }
        }

        var sums = scratch.Acc;
        int valid = Math.Min(Lanes, 1 << job.Low);
        long first = (long)block << job.Low;
        for (int lane = 0; lane < valid; lane++)
        {
            var target = values.Slice((int)((first + lane) * Outputs), Outputs);
            for (int o = 0; o < target.Length; o++)
            {
                target[o] = sums[(o * Lanes) + lane];
            }
        }
    }

    /// <summary>
    /// <see cref="WideCoalitions"/> on <paramref name="workers"/> threads: each takes a contiguous range of blocks (the
    /// same work per block), the calling thread the first one straight into <paramref name="values"/>, the others into
    /// arrays of their own that are copied in afterwards. Every coalition is computed exactly as with one thread.
    /// </summary>
    private void WideInParallel(CoalitionJob job, int workers, Span<double> values)
    {
        int blocks = 1 << job.High;
        int perBlock = Math.Min(Lanes, 1 << job.Low) * Outputs;
        var parts = new double[workers][];
        var tasks = new Task[workers - 1];
        for (int worker = 1; worker < workers; worker++)
        {
            int first = (int)((long)blocks * worker / workers);
            int end = (int)((long)blocks * (worker + 1) / workers);
            var part = parts[worker] = new double[(end - first) * perBlock];
            tasks[worker - 1] = Task.Run(() => WideCoalitions(job, first, end, new Scratch(this), part));
        }

        int own = blocks / workers;
        values[..(own * perBlock)].Clear();
        WideCoalitions(job, 0, own, new Scratch(this), values);
        Task.WaitAll(tasks);
        for (int worker = 1; worker < workers; worker++)
        {
            int first = (int)((long)blocks * worker / workers);
            parts[worker].CopyTo(values[(first * perBlock)..]);
        }
    }

    /// <summary>
    /// <see cref="CoalitionBlock"/> with the AVX-512 kernels, for the blocks <c>first … end − 1</c>, adding
    /// <c>w_k · f</c> into <paramref name="values"/> (cleared by the caller; block <paramref name="first"/>'s coalitions
    /// at its start). Within a chunk of (at most)
    /// <see cref="ChunkBlocks"/> blocks background rows are the outer loop, so one row's tables stay in L1 across the
    /// chunk's blocks while the chunk's values stay in L2; each coalition still sums the rows in order with the same FMA
    /// from zero, so the numbers are those of <see cref="CoalitionBlock"/>. Within a block: high-group sums in
    /// registers, ReLU applied while adding the tables, and for one task with one-layer experts the mixture read straight
    /// from the tables.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void WideCoalitions(CoalitionJob job, int first, int end, Scratch s, Span<double> values)
    {
        int p = job.P;
        int tableSize = p * Lanes;
        int valid = Math.Min(Lanes, 1 << job.Low);
        int outputs = Outputs;
        var output = s.Out;
        for (int chunk = first; chunk < end; chunk += ChunkBlocks)
        {
            int last = Math.Min(end, chunk + ChunkBlocks);
            for (int r = 0; r < job.K; r++)
            {
                var a = job.A.AsSpan(r * p, p);
                var d = job.D.AsSpan(r * job.M * p, job.M * p);
                var table = job.Table.AsSpan(r * tableSize, tableSize);
                double w = job.Weights[r];
                for (int block = chunk; block < last; block++)
                {
                    MmoeKernels.HighSums(a, d, p, job.Low, job.High, block, s.BaseRow);
                    if (fusedMixture)
                    {
                        var logits = s.Pre.AsSpan(gateOffset * Lanes, experts * Lanes);
                        MmoeKernels.AddBase(s.BaseRow.AsSpan(gateOffset), table[(gateOffset * Lanes)..], logits, experts, 0);
                        MmoeKernels.Softmax(logits, experts, s.Gate);
                        MmoeKernels.MixtureFromTable(s.BaseRow, table, s.Gate, experts, expertWidth0, s.Mixture);
                        RunTower(0, s.Mixture.AsSpan(0, expertOutputs * Lanes), s);
                    }
                    else
                    {
                        MmoeKernels.AddBase(s.BaseRow, table, s.Pre, p, reluWidth);
                        Tail(s, rectified: reluComplete);
                    }

                    MmoeKernels.AddTransposed(w, output, outputs, values.Slice((block - first) * valid * outputs, valid * outputs), valid);
                }
            }
        }
    }

    /// <summary>The network after the linear stage, for <see cref="Lanes"/> columns of <see cref="Scratch.Pre"/> at once,
    /// into <see cref="Scratch.Out"/> (<c>[Outputs][Lanes]</c>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Tail(Scratch s, bool rectified = false)
    {
        var pre = s.Pre;
        if (!hasExpertLayers)
        {
            for (int t = 0; t < towers.Length; t++)
            {
                var tower = towers[t];
                int width = (t + 1 < towers.Length ? towerOffset[t + 1] : linear.Out) - towerOffset[t];
                var first = pre.AsSpan(towerOffset[t] * Lanes, width * Lanes);
                if (tower.Length == 0)
                {
                    Finish(t, first, s);
                    continue;
                }

                if (!rectified)
                {
                    Relu(first);
                }

                RunTower(t, first, s);
            }

            return;
        }

        if (!rectified)
        {
            Relu(pre.AsSpan(0, experts * expertWidth0 * Lanes));
        }

        for (int e = 0; e < experts; e++)
        {
            var deep = deepExperts[e];
            if (deep.Length == 0)
            {
                continue;
            }

            ReadOnlySpan<double> h = pre.AsSpan(e * expertWidth0 * Lanes, expertWidth0 * Lanes);
            for (int l = 0; l < deep.Length; l++)
            {
                var target = l == deep.Length - 1 ? s.Experts.AsSpan(e * expertOutputs * Lanes, expertOutputs * Lanes)
                    : (l % 2 == 0 ? s.A : s.B).AsSpan(0, deep[l].Out * Lanes);
                Dense(h, deep[l], target, relu: true);
                h = target;
            }
        }

        int vb = Lanes / Vector<double>.Count;
        for (int t = 0; t < towers.Length; t++)
        {
            ReadOnlySpan<double> mixture;
            if (experts == 1)
            {
                mixture = ExpertOutput(0, s);
            }
            else if (MmoeKernels.Enabled)
            {
                MmoeKernels.Softmax(pre.AsSpan((gateOffset + (t * experts)) * Lanes, experts * Lanes), experts, s.Gate);
                MmoeKernels.Mixture(s.Gate, deepExperts[0].Length == 0 ? pre : s.Experts, experts, expertOutputs, s.Mixture);
                mixture = s.Mixture.AsSpan(0, expertOutputs * Lanes);
            }
            else
            {
                var logits = MemoryMarshal.Cast<double, Vector<double>>(pre.AsSpan((gateOffset + (t * experts)) * Lanes, experts * Lanes));
                var gate = MemoryMarshal.Cast<double, Vector<double>>(s.Gate.AsSpan(0, experts * Lanes));
                for (int v = 0; v < vb; v++)
                {
                    var max = logits[v];
                    for (int e = 1; e < experts; e++)
                    {
                        max = Vector.Max(max, logits[(e * vb) + v]);
                    }

                    var sum = Vector<double>.Zero;
                    for (int e = 0; e < experts; e++)
                    {
                        var p = Exp(logits[(e * vb) + v] - max);
                        gate[(e * vb) + v] = p;
                        sum += p;
                    }

                    // One division per vector (divisions are slow); p · (1/sum) is within an ulp of p / sum.
                    var inverse = Vector<double>.One / sum;
                    for (int e = 0; e < experts; e++)
                    {
                        gate[(e * vb) + v] *= inverse;
                    }
                }

                // mixture[j] = Σ_e gate_e · h_e[j], in e order as the reference sums; all experts' outputs are
                // contiguous ([E][H][Lanes]) in Experts (deep) or at the start of Pre (one layer).
                ref Vector<double> h = ref Unsafe.As<double, Vector<double>>(ref MemoryMarshal.GetArrayDataReference(deepExperts[0].Length == 0 ? pre : s.Experts));
                ref Vector<double> g = ref MemoryMarshal.GetReference(gate);
                ref Vector<double> mixed = ref Unsafe.As<double, Vector<double>>(ref MemoryMarshal.GetArrayDataReference(s.Mixture));
                int stride = expertOutputs * vb;
                for (int j = 0; j < expertOutputs; j++)
                {
                    for (int v = 0; v < vb; v++)
                    {
                        int n = (j * vb) + v;
                        var sum = Unsafe.Add(ref g, v) * Unsafe.Add(ref h, n);
                        for (int e = 1; e < experts; e++)
                        {
                            sum = Vector.FusedMultiplyAdd(Unsafe.Add(ref g, (e * vb) + v), Unsafe.Add(ref h, (e * stride) + n), sum);
                        }

                        Unsafe.Add(ref mixed, n) = sum;
                    }
                }

                mixture = s.Mixture.AsSpan(0, expertOutputs * Lanes);
            }

            RunTower(t, mixture, s);
        }
    }

    private ReadOnlySpan<double> ExpertOutput(int e, Scratch s) => deepExperts[e].Length == 0
        ? s.Pre.AsSpan(e * expertWidth0 * Lanes, expertWidth0 * Lanes)
        : s.Experts.AsSpan(e * expertOutputs * Lanes, expertOutputs * Lanes);

    /// <summary>Tower layers of task <paramref name="t"/> (hidden with ReLU, the last one into the outputs).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunTower(int t, ReadOnlySpan<double> input, Scratch s)
    {
        var tower = towers[t];
        var h = input;
        for (int l = 0; l < tower.Length - 1; l++)
        {
            var target = (l % 2 == 0 ? s.A : s.B).AsSpan(0, tower[l].Out * Lanes);
            Dense(h, tower[l], target, relu: true);
            h = target;
        }

        var last = tower[^1];
        var logits = s.Out.AsSpan(outputOffset[t] * Lanes, last.Out * Lanes);
        Dense(h, last, logits, relu: false);
        Finish(t, logits, s);
    }

    /// <summary>Writes task <paramref name="t"/>'s logits into the outputs with the task's activation.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Finish(int t, Span<double> logits, Scratch s)
    {
        var target = s.Out.AsSpan(outputOffset[t] * Lanes, logits.Length);
        if (!Unsafe.AreSame(ref MemoryMarshal.GetReference(target), ref MemoryMarshal.GetReference(logits)))
        {
            logits.CopyTo(target);
        }

        if (sigmoid[t] && MmoeKernels.Enabled)
        {
            MmoeKernels.Sigmoid(target);
        }
        else if (sigmoid[t])
        {
            var y = MemoryMarshal.Cast<double, Vector<double>>(target);
            for (int n = 0; n < y.Length; n++)
            {
                y[n] = Vector<double>.One / (Vector<double>.One + Exp(-y[n]));
            }
        }
    }

    /// <summary>
    /// <c>e^x</c> per element, within a few ulp of <see cref="Math.Exp"/> (relative error below 1e-15) and several
    /// times faster than <see cref="Vector.Exp(Vector{double})"/>: <c>x = n·ln2 + r</c> with <c>|r| ≤ ln2/2</c>,
    /// <c>e^r</c> by its Taylor polynomial of degree 13, times <c>2^n</c> built in the exponent bits. Inputs are clamped to
    /// [−708, 709], so results below about 3e−308 come out as that (the reference gives 0 or a subnormal: a difference
    /// far below any tolerance) and nothing overflows.
    /// </summary>
    private static Vector<double> Exp(Vector<double> x)
    {
        var magic = new Vector<double>(6755399441055744.0); // 1.5 · 2^52: adding it rounds to an integer in the low bits
        x = Vector.Min(Vector.Max(x, new Vector<double>(-708.0)), new Vector<double>(709.0));
        var t = Vector.FusedMultiplyAdd(x, new Vector<double>(1.4426950408889634), magic);
        var n = t - magic;
        var r = Vector.FusedMultiplyAdd(n, new Vector<double>(-0.6931471805599453), x);
        r = Vector.FusedMultiplyAdd(n, new Vector<double>(-2.3190468138462996e-17), r);
        var p = new Vector<double>(1.0 / 6227020800.0);
        p = Vector.FusedMultiplyAdd(p, r, new Vector<double>(1.0 / 479001600.0));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<double>(1.0 / 39916800.0));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<double>(1.0 / 3628800.0));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<double>(1.0 / 362880.0));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<double>(1.0 / 40320.0));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<double>(1.0 / 5040.0));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<double>(1.0 / 720.0));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<double>(1.0 / 120.0));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<double>(1.0 / 24.0));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<double>(1.0 / 6.0));
        p = Vector.FusedMultiplyAdd(p, r, new Vector<double>(0.5));
        p = Vector.FusedMultiplyAdd(p, r, Vector<double>.One);
        p = Vector.FusedMultiplyAdd(p, r, Vector<double>.One);
        var exponent = Vector.ShiftLeft(Vector.AsVectorInt64(t) - Vector.AsVectorInt64(magic) + new Vector<long>(1023), 52);
        return p * Vector.AsVectorDouble(exponent);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Relu(Span<double> values)
    {
        if (MmoeKernels.Enabled)
        {
            MmoeKernels.Relu(values);
            return;
        }

        var v = MemoryMarshal.Cast<double, Vector<double>>(values);
        for (int n = 0; n < v.Length; n++)
        {
            v[n] = Vector.Max(v[n], Vector<double>.Zero);
        }
    }

    /// <summary>
    /// <c>output[j][·] = B[j] + Σ_i W[i, j] · input[i][·]</c> (summed in i order, as the reference does) for
    /// <see cref="Lanes"/> columns, optionally followed by ReLU. Input <c>[In][Lanes]</c>, output <c>[Out][Lanes]</c>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dense(ReadOnlySpan<double> input, Layer layer, Span<double> output, bool relu)
    {
        if (MmoeKernels.Enabled)
        {
            MmoeKernels.Dense(input, layer.In, layer.Out, layer.W, layer.B, output, relu);
            return;
        }

        int vb = Lanes / Vector<double>.Count;
        int inW = layer.In;
        int outW = layer.Out;
        ref Vector<double> x = ref Unsafe.As<double, Vector<double>>(ref MemoryMarshal.GetReference(input));
        ref Vector<double> y = ref Unsafe.As<double, Vector<double>>(ref MemoryMarshal.GetReference(output));
        ref double w = ref MemoryArrayRef(layer.W);
        var zero = Vector<double>.Zero;
        int j = 0;
        for (; j + 4 <= outW; j += 4)
        {
            var b0 = new Vector<double>(layer.B[j]);
            var b1 = new Vector<double>(layer.B[j + 1]);
            var b2 = new Vector<double>(layer.B[j + 2]);
            var b3 = new Vector<double>(layer.B[j + 3]);
            for (int v = 0; v < vb; v += 2)
            {
                Vector<double> a00 = b0, a01 = b0, a10 = b1, a11 = b1, a20 = b2, a21 = b2, a30 = b3, a31 = b3;
                for (int i = 0; i < inW; i++)
                {
                    var x0 = Unsafe.Add(ref x, (i * vb) + v);
                    var x1 = Unsafe.Add(ref x, (i * vb) + v + 1);
                    ref double wi = ref Unsafe.Add(ref w, (i * outW) + j);
                    var w0 = new Vector<double>(wi);
                    var w1 = new Vector<double>(Unsafe.Add(ref wi, 1));
                    var w2 = new Vector<double>(Unsafe.Add(ref wi, 2));
                    var w3 = new Vector<double>(Unsafe.Add(ref wi, 3));
                    a00 = Vector.FusedMultiplyAdd(w0, x0, a00);
                    a01 = Vector.FusedMultiplyAdd(w0, x1, a01);
                    a10 = Vector.FusedMultiplyAdd(w1, x0, a10);
                    a11 = Vector.FusedMultiplyAdd(w1, x1, a11);
                    a20 = Vector.FusedMultiplyAdd(w2, x0, a20);
                    a21 = Vector.FusedMultiplyAdd(w2, x1, a21);
                    a30 = Vector.FusedMultiplyAdd(w3, x0, a30);
                    a31 = Vector.FusedMultiplyAdd(w3, x1, a31);
                }

                if (relu)
                {
                    (a00, a01, a10, a11) = (Vector.Max(a00, zero), Vector.Max(a01, zero), Vector.Max(a10, zero), Vector.Max(a11, zero));
                    (a20, a21, a30, a31) = (Vector.Max(a20, zero), Vector.Max(a21, zero), Vector.Max(a30, zero), Vector.Max(a31, zero));
                }

                Unsafe.Add(ref y, (j * vb) + v) = a00;
                Unsafe.Add(ref y, (j * vb) + v + 1) = a01;
                Unsafe.Add(ref y, ((j + 1) * vb) + v) = a10;
                Unsafe.Add(ref y, ((j + 1) * vb) + v + 1) = a11;
                Unsafe.Add(ref y, ((j + 2) * vb) + v) = a20;
                Unsafe.Add(ref y, ((j + 2) * vb) + v + 1) = a21;
                Unsafe.Add(ref y, ((j + 3) * vb) + v) = a30;
                Unsafe.Add(ref y, ((j + 3) * vb) + v + 1) = a31;
            }
        }

        for (; j < outW; j++)
        {
            var b = new Vector<double>(layer.B[j]);
            for (int v = 0; v < vb; v += 2)
            {
                Vector<double> a0 = b, a1 = b;
                for (int i = 0; i < inW; i++)
                {
                    var wij = new Vector<double>(Unsafe.Add(ref w, (i * outW) + j));
                    a0 = Vector.FusedMultiplyAdd(wij, Unsafe.Add(ref x, (i * vb) + v), a0);
                    a1 = Vector.FusedMultiplyAdd(wij, Unsafe.Add(ref x, (i * vb) + v + 1), a1);
                }

                if (relu)
                {
                    a0 = Vector.Max(a0, zero);
                    a1 = Vector.Max(a1, zero);
                }

                Unsafe.Add(ref y, (j * vb) + v) = a0;
                Unsafe.Add(ref y, (j * vb) + v + 1) = a1;
            }
        }
    }

    private static ref double MemoryArrayRef(double[] array) => ref MemoryMarshal.GetArrayDataReference(array);

    private static Layer ToLayer(DenseWeights d) => new(d.In, d.Out, [.. d.W.Select(v => (double)v)], [.. d.B.Select(v => (double)v)]);

    /// <summary>Dense layers reading the same input, side by side: <c>[In, Σ Out]</c>.</summary>
    private static Layer Concatenate(int inputs, List<DenseWeights> layers)
    {
        int width = layers.Sum(l => l.Out);
        var w = new double[inputs * width];
        var b = new double[width];
        int offset = 0;
        foreach (var layer in layers)
        {
            for (int i = 0; i < inputs; i++)
            {
                for (int j = 0; j < layer.Out; j++)
                {
                    w[(i * width) + offset + j] = layer.W[(i * layer.Out) + j];
                }
            }

            for (int j = 0; j < layer.Out; j++)
            {
                b[offset + j] = layer.B[j];
            }

            offset += layer.Out;
        }

        return new Layer(inputs, width, w, b);
    }

    /// <summary>One <see cref="CoalitionValues"/> call's tables: per background row A (<c>[K][P]</c>), D
    /// (<c>[K][M][P]</c>) and the low-group sums (<c>[K][P][Lanes]</c>).</summary>
    /// <summary>The sampled-coalition path's buffers, kept for the next call.</summary>
    private sealed class SampleBuffers(MmoeFunction f, int chunks, int coalitions)
    {
        public int Chunks { get; } = chunks;

        public byte[] Codes { get; } = new byte[coalitions * chunks];

        public bool[] Complement { get; } = new bool[coalitions];

        public double[] Table { get; } = new double[chunks * (1 << SampleChunkBits) * f.linear.Out];

        public double[] Rows { get; } = new double[4 * f.linear.Out];

        public double[] Full { get; } = new double[f.linear.Out];

        public Scratch Scratch { get; } = new(f);
    }

    private sealed record CoalitionJob(int P, int K, int M, int Low, int High, double[] A, double[] D, double[] Table, double[] Weights);

    /// <summary>A dense layer in double, W row-major <c>[In, Out]</c>.</summary>
    private sealed record Layer(int In, int Out, double[] W, double[] B);

    /// <summary>One worker's buffers, each <c>[width][Lanes]</c>.</summary>
    private sealed class Scratch(MmoeFunction f)
    {
        public double[] Z { get; } = new double[f.Inputs * Lanes];

        public double[] Pre { get; } = new double[f.linear.Out * Lanes];

        public double[] Experts { get; } = new double[f.experts * f.expertOutputs * Lanes];

        public double[] Gate { get; } = new double[f.experts * Lanes];

        public double[] Mixture { get; } = new double[f.expertOutputs * Lanes];

        public double[] A { get; } = new double[f.maxWidth * Lanes];

        public double[] B { get; } = new double[f.maxWidth * Lanes];

        public double[] Out { get; } = new double[f.Outputs * Lanes];

        public double[] BaseRow { get; } = new double[f.linear.Out];

        public double[] Acc { get; } = new double[f.Outputs * Lanes];
    }
}
