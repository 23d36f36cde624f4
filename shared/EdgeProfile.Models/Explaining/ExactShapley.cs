using System.Numerics;

namespace EdgeProfile.Models.Explaining;

/// <summary>
/// Exact (interventional) Shapley values over feature groups: every one of the <c>2^M</c> coalitions is valued as
/// <c>v(S) = Σ_k w_k · f(x_S, b_k,¬S)</c> (the groups in S take the explained row's values, the others background row
/// k's, averaged with the background weights), then <c>φ_i = Σ_{S ∌ i} |S|!(M−|S|−1)!/M! · (v(S ∪ i) − v(S))</c>.
/// Cost <c>2^M · K</c> evaluations, so at most <see cref="MaxGroups"/> groups; use <see cref="KernelShap"/> beyond.
/// </summary>
public static class ExactShapley
{
    /// <summary>The most groups explained exactly (<c>2^16</c> coalitions).</summary>
    public const int MaxGroups = 16;

    /// <summary>Most rows passed to one <see cref="IExplainedFunction.Evaluate"/> call.</summary>
    internal const int MaxChunkRows = 4096;

    /// <summary>Most values (rows × features) materialised at once for one evaluation chunk.</summary>
    internal const int MaxChunkValues = 1 << 20;

    /// <summary>
    /// Exact Shapley values of every output at row <paramref name="x"/>, one <see cref="Attribution"/> per output
    /// (<see cref="Attribution.BaseValue"/> = <c>v(∅)</c>, <see cref="Attribution.Output"/> = <c>v(all)</c>).
    /// </summary>
    /// <exception cref="ArgumentException">More than <see cref="MaxGroups"/> groups, or widths disagree.</exception>
    public static Attribution[] Explain(IExplainedFunction function, ReadOnlySpan<double> x, Background background, FeatureGroups groups)
    {
        var values = CoalitionValues(function, x, background, groups);
        int m = groups.Count;
        int outputs = function.Outputs;
        int all = (1 << m) - 1;

        // s!(M−s−1)!/M! = 1 / (M · C(M−1, s)): the chance that exactly the s players of S precede i in a random order.
        var weight = new double[m];
        for (int s = 0; s < m; s++)
        {
            weight[s] = 1.0 / (m * Binomial(m - 1, s));
        }

        // Per coalition S its weight w(|S|); then, per group g, the pairs (S, S ∪ g) with g ∉ S come in contiguous runs
        // of 2^g masks (S and S + 2^g), so each output's φ_g is a dot product over runs: vectorised, no branches.
        int count = 1 << m;
        var coalitionWeight = new double[count];
        for (int mask = 0; mask < count - 1; mask++)
        {
            coalitionWeight[mask] = weight[BitOperations.PopCount((uint)mask)];
        }

        var phi = new double[outputs][];
        var column = outputs == 1 ? values : new double[count];
        for (int o = 0; o < outputs; o++)
        {
            phi[o] = new double[m];
            if (outputs > 1)
            {
                for (int mask = 0; mask < count; mask++)
                {
                    column[mask] = values[(mask * outputs) + o];
                }
            }

            for (int g = 0; g < m; g++)
            {
                phi[o][g] = PairSum(column, coalitionWeight, 1 << g, count);
            }
        }

        long evaluations = (1L << m) * background.Count;
        string source = Describe(background);
        var result = new Attribution[outputs];
        for (int o = 0; o < outputs; o++)
        {
            double baseValue = values[o];
            double output = values[(all * outputs) + o];
            result[o] = new Attribution(
                AttributionMethod.ExactShapley,
                groups.Names,
                phi[o],
                baseValue,
                output,
                Math.Abs(baseValue + phi[o].Sum() - output),
                null,
                evaluations,
                source);
        }

        return result;
    }

    /// <summary>Σ over masks S without bit h of <c>w[S] · (v[S + h] − v[S])</c>, run by run (runs of h masks).</summary>
    private static double PairSum(double[] v, double[] w, int h, int count)
    {
        var sum = Vector<double>.Zero;
        double tail = 0;
        int width = Vector<double>.Count;
        for (int start = 0; start < count; start += 2 * h)
        {
            int j = 0;
            if (h >= width)
            {
                for (; j <= h - width; j += width)
                {
                    var without = new Vector<double>(v, start + j);
                    var with = new Vector<double>(v, start + h + j);
                    sum += new Vector<double>(w, start + j) * (with - without);
                }
            }

            for (; j < h; j++)
            {
                tail += w[start + j] * (v[start + h + j] - v[start + j]);
            }
        }

        return Vector.Sum(sum) + tail;
    }

    /// <summary>
    /// The value of every coalition: <c>2^M × Outputs</c>, row-major by coalition mask (bit g = group g), each
    /// <c>v(S) = Σ_k w_k · f(x_S, b_k,¬S)</c>. Uses the function's <see cref="ICoalitionValues"/> fast path when it
    /// has one; otherwise evaluates the <c>2^M · K</c> rows in chunks.
    /// </summary>
    /// <exception cref="ArgumentException">More than <see cref="MaxGroups"/> groups, or widths disagree.</exception>
    public static double[] CoalitionValues(IExplainedFunction function, ReadOnlySpan<double> x, Background background, FeatureGroups groups)
    {
        Validate(function, x, background, groups);
        int m = groups.Count;
        if (m > MaxGroups)
        {
            throw new ArgumentException(
                $"exact Shapley values need 2^M coalitions: {m} groups is more than {MaxGroups}; use KernelSHAP", nameof(groups));
        }

        int coalitions = 1 << m;
        var values = new double[coalitions * function.Outputs];
        if (function is ICoalitionValues fast)
        {
            fast.CoalitionValues(x, background, groups, values);
            return values;
        }

        var members = new bool[coalitions * m];
        for (int mask = 0; mask < coalitions; mask++)
        {
            for (int g = 0; g < m; g++)
            {
                members[(mask * m) + g] = (mask & (1 << g)) != 0;
            }
        }

        EvaluateCoalitions(function, x, background, groups, members, values);
        return values;
    }

    /// <summary>Throws unless the function, row, background and groups agree on the input width.</summary>
    internal static void Validate(IExplainedFunction function, ReadOnlySpan<double> x, Background background, FeatureGroups groups)
    {
        ArgumentNullException.ThrowIfNull(function);
        ArgumentNullException.ThrowIfNull(background);
        ArgumentNullException.ThrowIfNull(groups);
        if (x.Length != function.Inputs)
        {
            throw new ArgumentException($"the row has {x.Length} features but the function takes {function.Inputs}", nameof(x));
        }

        if (background.Inputs != function.Inputs)
        {
            throw new ArgumentException(
                $"the background has {background.Inputs} features per row but the function takes {function.Inputs}", nameof(background));
        }

        if (groups.Inputs != function.Inputs)
        {
            throw new ArgumentException(
                $"the groups partition {groups.Inputs} features but the function takes {function.Inputs}", nameof(groups));
        }
    }

    /// <summary>How an attribution names its background.</summary>
    internal static string Describe(Background background) => $"{background.Source} ({background.Count} rows)";

    /// <summary>
    /// Values coalitions given as membership flags (<c>coalitions × M</c>, row-major: true = the group takes
    /// <paramref name="x"/>'s values) into <paramref name="values"/> (<c>coalitions × Outputs</c>), averaging over the
    /// background with its weights. Rows are built and evaluated in chunks of at most <see cref="MaxChunkRows"/>.
    /// </summary>
    internal static void EvaluateCoalitions(
        IExplainedFunction function,
        ReadOnlySpan<double> x,
        Background background,
        FeatureGroups groups,
        ReadOnlySpan<bool> members,
        Span<double> values)
    {
        if (function is ICoalitionSampleValues fast)
        {
            fast.SampledCoalitionValues(x, background, groups, members, values);
            return;
        }

        int m = groups.Count;
        int inputs = function.Inputs;
        int outputs = function.Outputs;
        int count = background.Count;
        int coalitions = members.Length / m;
        var groupOf = groups.GroupOf.ToArray();
        var weights = background.Weights;
        var rows = background.Rows;

        int chunk = Math.Max(1, Math.Min(MaxChunkRows, MaxChunkValues / inputs));
        long total = (long)coalitions * count;
        chunk = (int)Math.Min(chunk, total);
        var input = new double[chunk * inputs];
        var output = new double[chunk * outputs];
        var inS = new bool[inputs];
        values[..(coalitions * outputs)].Clear();

        int current = -1;
        for (long start = 0; start < total; start += chunk)
        {
            int n = (int)Math.Min(chunk, total - start);
            for (int r = 0; r < n; r++)
            {
                long index = start + r;
                int c = (int)(index / count);
                int k = (int)(index % count);
                if (c != current)
                {
                    current = c;
                    var flags = members.Slice(c * m, m);
                    for (int i = 0; i < inputs; i++)
                    {
                        inS[i] = flags[groupOf[i]];
                    }
                }

                var row = input.AsSpan(r * inputs, inputs);
                int b = k * inputs;
                for (int i = 0; i < inputs; i++)
                {
                    row[i] = inS[i] ? x[i] : rows[b + i];
                }
            }

            function.Evaluate(input.AsSpan(0, n * inputs), output.AsSpan(0, n * outputs));
            for (int r = 0; r < n; r++)
            {
                long index = start + r;
                int c = (int)(index / count);
                double w = weights[(int)(index % count)];
                var target = values.Slice(c * outputs, outputs);
                var source = output.AsSpan(r * outputs, outputs);
                for (int o = 0; o < outputs; o++)
                {
                    target[o] += w * source[o];
                }
            }
        }
    }

    /// <summary>The binomial coefficient C(n, k) in double (exact while it fits 53 bits).</summary>
    internal static double Binomial(int n, int k)
    {
        if (k < 0 || k > n)
        {
            return 0;
        }

        k = Math.Min(k, n - k);
        double c = 1;
        for (int i = 1; i <= k; i++)
        {
            c = c * (n - k + i) / i;
        }

        return c;
    }
}
