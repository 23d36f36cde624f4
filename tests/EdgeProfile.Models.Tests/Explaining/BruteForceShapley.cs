using EdgeProfile.Models.Explaining;

namespace EdgeProfile.Models.Tests.Explaining;

/// <summary>
/// Shapley values by their definition, independently of the code under test: the average over all M! orders of the
/// groups of each group's marginal contribution when it joins those before it, with
/// <c>v(S) = Σ_k w_k · f(x_S, b_k,¬S)</c> evaluated on the function itself, row by row.
/// </summary>
public static class BruteForceShapley
{
    /// <summary>φ as <c>[output][group]</c>.</summary>
    public static double[][] Values(IExplainedFunction function, double[] x, Background background, FeatureGroups groups)
    {
        int m = groups.Count;
        var phi = Enumerable.Range(0, function.Outputs).Select(_ => new double[m]).ToArray();
        long orders = 0;
        foreach (var order in Permutations(m))
        {
            var members = new bool[m];
            var before = Value(function, x, background, groups, members);
            foreach (int g in order)
            {
                members[g] = true;
                var after = Value(function, x, background, groups, members);
                for (int o = 0; o < phi.Length; o++)
                {
                    phi[o][g] += after[o] - before[o];
                }

                before = after;
            }

            orders++;
        }

        foreach (var output in phi)
        {
            for (int g = 0; g < m; g++)
            {
                output[g] /= orders;
            }
        }

        return phi;
    }

    /// <summary>The coalition value: the row's features for the groups in the coalition, the background row's for the
    /// others, averaged over the background rows with their weights.</summary>
    public static double[] Value(IExplainedFunction function, double[] x, Background background, FeatureGroups groups, bool[] members)
    {
        var value = new double[function.Outputs];
        var row = new double[function.Inputs];
        var output = new double[function.Outputs];
        for (int k = 0; k < background.Count; k++)
        {
            var b = background.Row(k);
            for (int i = 0; i < row.Length; i++)
            {
                row[i] = members[groups.GroupOf[i]] ? x[i] : b[i];
            }

            function.Evaluate(row, output);
            for (int o = 0; o < value.Length; o++)
            {
                value[o] += background.Weights[k] * output[o];
            }
        }

        return value;
    }

    private static IEnumerable<int[]> Permutations(int m)
    {
        var order = Enumerable.Range(0, m).ToArray();
        return Permute(order, 0);
    }

    private static IEnumerable<int[]> Permute(int[] order, int at)
    {
        if (at == order.Length)
        {
            yield return (int[])order.Clone();
            yield break;
        }

        for (int i = at; i < order.Length; i++)
        {
            (order[at], order[i]) = (order[i], order[at]);
            foreach (var p in Permute(order, at + 1))
            {
                yield return p;
            }

            (order[at], order[i]) = (order[i], order[at]);
        }
    }
}
