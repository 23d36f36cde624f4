using EdgeProfile.Synthesis.Dfs;
using EdgeProfile.Synthesis.Loading;

namespace EdgeProfile.Synthesis.Labels;

/// <summary>Labels of cutoff rows, from the transactions in (cutoff, cutoff + horizon].</summary>
public static class LabelBuilder
{
    /// <summary>One label per row: 0/1 for <see cref="LabelKind.Repurchase"/> and <see cref="LabelKind.Churn"/>, money for <see cref="LabelKind.Spend"/>.</summary>
    public static double[] Compute(EntitySet set, IReadOnlyList<CutoffRow> rows, LabelKind kind, TimeSpan horizon)
    {
        ArgumentNullException.ThrowIfNull(set);
        ArgumentNullException.ThrowIfNull(rows);
        if (horizon <= TimeSpan.Zero)
        {
            throw new SynthesisException("the label horizon must be positive", isConfiguration: true);
        }

        var labels = new double[rows.Count];
        var h = (long)horizon.TotalMilliseconds;
        for (var i = 0; i < rows.Count; i++)
        {
            var (c, cutoff) = rows[i];
            var from = set.FirstRowAfter(c, cutoff);
            var to = set.FirstRowAfter(c, cutoff + h);
            labels[i] = kind switch
            {
                LabelKind.Repurchase => to > from ? 1 : 0,
                LabelKind.Churn => to > from ? 0 : 1,
                _ => Sum(set.Amount, from, to),
            };
        }

        return labels;
    }

    /// <summary>Whether the label is 0/1.</summary>
    public static bool IsBinary(LabelKind kind) => kind is LabelKind.Repurchase or LabelKind.Churn;

    private static double Sum(double[] values, int from, int to)
    {
        var s = 0.0;
        for (var i = from; i < to; i++)
        {
            s += values[i];
        }

        return s;
    }
}
