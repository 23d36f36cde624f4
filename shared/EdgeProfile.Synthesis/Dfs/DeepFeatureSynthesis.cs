using EdgeProfile.Synthesis.Loading;

namespace EdgeProfile.Synthesis.Dfs;

/// <summary>
/// Deep feature synthesis for the <c>customers</c> entity: enumerates candidate features by stacking primitives
/// (<see cref="BuildCandidates"/>) and computes them at cutoff times (<see cref="Compute"/>). Every value uses only
/// transactions strictly before its row's cutoff, including the product, store and category aggregates of depth 2.
/// </summary>
public static class DeepFeatureSynthesis
{
    /// <summary>The candidate features of <paramref name="set"/> up to <see cref="DfsOptions.Depth"/>.</summary>
    public static IReadOnlyList<SynthesizedFeature> BuildCandidates(EntitySet set, DfsOptions options)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(options);
        if (options.Depth is < 1 or > 2)
        {
            throw new SynthesisException($"depth must be 1 or 2 (got {options.Depth})", isConfiguration: true);
        }

        return new CandidateBuilder(set, options).Build();
    }

    /// <summary>Computes <paramref name="features"/> for every row of <paramref name="rows"/>.</summary>
    public static FeatureMatrix Compute(EntitySet set, IReadOnlyList<SynthesizedFeature> features, IReadOnlyList<CutoffRow> rows, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(rows);

        var parents = new Dictionary<ParentEntity, ParentIndex>();
        foreach (var entity in features.Where(f => f.Plan.Input == RowVariable.Parent).Select(f => f.Plan.Parent).Distinct())
        {
            parents[entity] = entity switch
            {
                ParentEntity.Products => new ParentIndex(set, set.Product, set.ProductIds.Count),
                ParentEntity.Stores => new ParentIndex(set, set.Store, set.Stores.Count),
                _ => new ParentIndex(set, set.Category, set.Categories.Count),
            };
        }

        var columns = new double[features.Count][];
        for (var f = 0; f < features.Count; f++)
        {
            columns[f] = new double[rows.Count];
        }

        var index = new Dictionary<SynthesizedFeature, int>(ReferenceEqualityComparer.Instance);
        for (var f = 0; f < features.Count; f++)
        {
            index[features[f]] = f;
        }

        var ratios = new List<int>();
        var direct = new List<int>();
        for (var f = 0; f < features.Count; f++)
        {
            (features[f].Primitive == Primitive.Ratio ? ratios : direct).Add(f);
        }

        Parallel.For(
            0,
            rows.Count,
            new ParallelOptions { CancellationToken = cancellationToken },
            () => new FeatureEvaluator(set, parents),
            (i, _, evaluator) =>
            {
                var (customer, cutoff) = rows[i];
                var end = set.FirstRowAtOrAfter(customer, cutoff);
                foreach (var f in direct)
                {
                    columns[f][i] = evaluator.Evaluate(features[f].Plan, customer, cutoff, end);
                }

                foreach (var f in ratios)
                {
                    var plan = features[f].Plan;
                    var num = Part(plan.Numerator!, i);
                    var den = Part(plan.Denominator!, i);
                    columns[f][i] = den == 0 || double.IsNaN(den) || double.IsNaN(num) ? double.NaN : num / den;
                }

                return evaluator;
            },
            _ => { });

        return new FeatureMatrix(rows, features, columns);

        double Part(SynthesizedFeature part, int row) =>
            index.TryGetValue(part, out var f) ? columns[f][row]
                : throw new InvalidOperationException($"ratio part '{part.Name}' is not among the features computed");
    }
}
