using System.Globalization;

namespace EdgeProfile.Training.Pipeline;

/// <summary>
/// A split by time: test = rows with cutoff ≥ <see cref="SplitAt"/>; of the earlier rows, the latest
/// <see cref="ValidationFraction"/> by cutoff validate (early stopping) and the rest train. No test row precedes a
/// training row, so the test metrics are those of a model used after it was trained.
/// </summary>
public sealed record TimeSplit(DateTimeOffset SplitAt, IReadOnlyList<int> Train, IReadOnlyList<int> Validation, IReadOnlyList<int> Test)
{
    /// <summary>Share of the pre-split rows used for validation.</summary>
    public const double ValidationFraction = 0.15;

    /// <summary>Rows before the split (train and validation).</summary>
    public IEnumerable<int> BeforeSplit => Train.Concat(Validation);

    /// <summary>The default split time: the cutoff at the 80th percentile of <paramref name="cutoffs"/>.</summary>
    public static DateTimeOffset DefaultSplit(IReadOnlyList<DateTimeOffset> cutoffs)
    {
        ArgumentNullException.ThrowIfNull(cutoffs);
        if (cutoffs.Count == 0)
        {
            throw new PipelineException("no rows to split");
        }

        var sorted = cutoffs.Order().ToArray();
        return sorted[Math.Min(sorted.Length - 1, (int)Math.Floor(0.8 * sorted.Length))];
    }

    /// <summary>Splits rows by <paramref name="cutoffs"/> at <paramref name="splitAt"/> (default <see cref="DefaultSplit"/>).</summary>
    public static TimeSplit Create(IReadOnlyList<DateTimeOffset> cutoffs, DateTimeOffset? splitAt = null)
    {
        ArgumentNullException.ThrowIfNull(cutoffs);
        var at = splitAt ?? DefaultSplit(cutoffs);
        var test = Enumerable.Range(0, cutoffs.Count).Where(i => cutoffs[i] >= at).ToArray();
        var before = Enumerable.Range(0, cutoffs.Count).Where(i => cutoffs[i] < at).OrderBy(i => cutoffs[i]).ThenBy(i => i).ToArray();
        var when = at.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
        if (test.Length == 0)
        {
            throw new PipelineException($"no rows with cutoff at or after the split {when}: nothing to test on (choose an earlier --split)");
        }

        var validation = (int)Math.Round(before.Length * ValidationFraction);
        if (before.Length - validation < 1 || validation < 1)
        {
            throw new PipelineException($"{before.Length} rows before the split {when}: too few to train and validate (choose a later --split)");
        }

        return new TimeSplit(at, before[..^validation], before[^validation..], test);
    }
}
