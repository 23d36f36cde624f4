namespace EdgeProfile.Models.Explaining;

/// <summary>Options of <see cref="Lime"/>.</summary>
public sealed record LimeOptions
{
    /// <summary>Perturbed samples, the first being the explained row itself (default 5000).</summary>
    public int Samples { get; init; } = 5000;

    /// <summary>Width of the exponential kernel on the distance to the row (default <c>0.75·√M</c>, as lime's).</summary>
    public double? KernelWidth { get; init; }

    /// <summary>L2 penalty on the surrogate's coefficients (not its intercept), as lime's <c>Ridge(alpha=1)</c>.</summary>
    public double Ridge { get; init; } = 1.0;

    /// <summary>Seed of the perturbation sampler: the same seed gives the same attribution.</summary>
    public int Seed { get; init; }
}

/// <summary>
/// LIME (Ribeiro, Singh &amp; Guestrin, KDD 2016): a local linear surrogate, a second opinion beside Shapley values and
/// <b>not</b> Shapley values (no efficiency: <see cref="Attribution.AdditivityError"/> says how far
/// <c>intercept + Σβ</c> is from the output). The interpretable representation is binary per group: <c>z_g = 1</c>
/// keeps the row's values, <c>z_g = 0</c> takes the background's, and a perturbation is valued as the interventional
/// expectation over the background (exactly the coalition value of <see cref="ExactShapley"/>). Samples: the first is
/// all ones; each other switches off a number of groups drawn uniformly from 1..M, the groups uniformly (lime's
/// sampler for binary representations), so the number of "on" groups is uniform over 0..M−1. Distance: Euclidean
/// from z to all ones, <c>d = √(#off)</c> — the distance lime's tabular explainer computes on discretised features,
/// whose binary columns are not rescaled. Kernel <c>exp(−d²/width²)</c>. The surrogate <c>y ≈ a + z·β</c> is a
/// weighted ridge fit (penalty on β only); <c>Values = β</c>, <c>BaseValue = a</c>, <c>Output = f(x)</c>,
/// <see cref="Attribution.SurrogateFit"/> = weighted R².
/// </summary>
public static class Lime
{
    /// <summary>The LIME surrogate of every output at row <paramref name="x"/>, one <see cref="Attribution"/> per output.</summary>
    /// <exception cref="ArgumentException">Widths disagree or the options are out of range.</exception>
    public static Attribution[] Explain(
        IExplainedFunction function, ReadOnlySpan<double> x, Background background, FeatureGroups groups, LimeOptions? options = null)
    {
        ExactShapley.Validate(function, x, background, groups);
        options ??= new LimeOptions();
        int m = groups.Count;
        int outputs = function.Outputs;
        if (options.Samples < 2)
        {
            throw new ArgumentException($"LIME needs at least 2 samples, got {options.Samples}", nameof(options));
        }

        double width = options.KernelWidth ?? (0.75 * Math.Sqrt(m));
        if (!(width > 0) || double.IsInfinity(width))
        {
            throw new ArgumentException($"the kernel width must be positive and finite, got {width}", nameof(options));
        }

        if (!(options.Ridge >= 0) || double.IsInfinity(options.Ridge))
        {
            throw new ArgumentException($"the ridge penalty must be non-negative and finite, got {options.Ridge}", nameof(options));
        }

        // Draw the perturbations; identical ones are valued once and weighted by how often they were drawn.
        var random = new Random(options.Seed);
        var unique = new List<bool[]>();
        var weight = new List<double>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        var order = Enumerable.Range(0, m).ToArray();
        var key = new char[m];
        for (int sample = 0; sample < options.Samples; sample++)
        {
            var z = new bool[m];
            Array.Fill(z, true);
            int off = sample == 0 ? 0 : random.Next(1, m + 1);
            for (int i = 0; i < off; i++)
            {
                int j = random.Next(i, m);
                (order[i], order[j]) = (order[j], order[i]);
                z[order[i]] = false;
            }

            for (int g = 0; g < m; g++)
            {
                key[g] = z[g] ? '1' : '0';
            }

            double kernel = Math.Exp(-off / (width * width));
            string name = new(key);
            if (index.TryGetValue(name, out int at))
            {
                weight[at] += kernel;
            }
            else
            {
                index.Add(name, unique.Count);
                unique.Add(z);
                weight.Add(kernel);
            }
        }

        int n = unique.Count;
        var members = new bool[n * m];
        for (int c = 0; c < n; c++)
        {
            unique[c].CopyTo(members, c * m);
        }

        var values = new double[n * outputs];
        ExactShapley.EvaluateCoalitions(function, x, background, groups, members, values);

        // Weighted ridge with an unpenalised intercept: centre z and y on their weighted means, solve
        // (Zcᵀ W Zc + λI) β = Zcᵀ W yc, then a = ȳ − z̄·β.
        double totalWeight = weight.Sum();
        var zMean = new double[m];
        var yMean = new double[outputs];
        for (int c = 0; c < n; c++)
        {
            double w = weight[c] / totalWeight;
            for (int g = 0; g < m; g++)
            {
                zMean[g] += unique[c][g] ? w : 0;
            }

            for (int o = 0; o < outputs; o++)
            {
                yMean[o] += w * values[(c * outputs) + o];
            }
        }

        var a = new double[m * m];
        var b = new double[m * outputs];
        var zc = new double[m];
        for (int c = 0; c < n; c++)
        {
            double w = weight[c];
            for (int g = 0; g < m; g++)
            {
                zc[g] = (unique[c][g] ? 1 : 0) - zMean[g];
            }

            for (int i = 0; i < m; i++)
            {
                double wi = w * zc[i];
                for (int j = 0; j < m; j++)
                {
                    a[(i * m) + j] += wi * zc[j];
                }

                for (int o = 0; o < outputs; o++)
                {
                    b[(i * outputs) + o] += wi * (values[(c * outputs) + o] - yMean[o]);
                }
            }
        }

        for (int i = 0; i < m; i++)
        {
            a[(i * m) + i] += options.Ridge;
        }

        KernelShap.SolveSymmetric(a, m, b, outputs);

        long evaluations = (long)n * background.Count;
        string source = ExactShapley.Describe(background);
        var result = new Attribution[outputs];
        for (int o = 0; o < outputs; o++)
        {
            var beta = new double[m];
            double intercept = yMean[o];
            for (int g = 0; g < m; g++)
            {
                beta[g] = b[(g * outputs) + o];
                intercept -= zMean[g] * beta[g];
            }

            double residual = 0;
            double spread = 0;
            for (int c = 0; c < n; c++)
            {
                double predicted = intercept;
                for (int g = 0; g < m; g++)
                {
                    predicted += unique[c][g] ? beta[g] : 0;
                }

                double y = values[(c * outputs) + o];
                residual += weight[c] * (y - predicted) * (y - predicted);
                spread += weight[c] * (y - yMean[o]) * (y - yMean[o]);
            }

            // A constant target is fitted perfectly by the intercept alone.
            double fit = spread > 0 ? 1 - (residual / spread) : 1;
            double output = values[o]; // sample 0 is the row itself (all groups on)
            result[o] = new Attribution(
                AttributionMethod.Lime,
                groups.Names,
                beta,
                intercept,
                output,
                Math.Abs(intercept + beta.Sum() - output),
                null,
                evaluations,
                source)
            {
                SurrogateFit = fit,
            };
        }

        return result;
    }
}
