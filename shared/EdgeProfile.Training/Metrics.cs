namespace EdgeProfile.Training;

/// <summary>Evaluation metrics.</summary>
public static class Metrics
{
    /// <summary>
    /// Area under the ROC curve (the Mann–Whitney statistic: probability that a random positive scores above a random
    /// negative, ties counting one half, via average ranks). Labels &gt; 0.5 are positive; rows with mask false are
    /// skipped. NaN when either class is absent.
    /// </summary>
    public static double RocAuc(IReadOnlyList<float> scores, IReadOnlyList<float> labels, IReadOnlyList<bool>? mask = null)
    {
        ArgumentNullException.ThrowIfNull(scores);
        ArgumentNullException.ThrowIfNull(labels);
        if (scores.Count != labels.Count)
        {
            throw new ArgumentException($"{scores.Count} scores for {labels.Count} labels", nameof(labels));
        }
        var rows = Enumerable.Range(0, scores.Count).Where(i => mask is null || mask[i]).OrderBy(i => scores[i]).ToArray();
        double positives = 0, rankSum = 0;
        for (var start = 0; start < rows.Length;)
        {
            var end = start;
            while (end + 1 < rows.Length && scores[rows[end + 1]] == scores[rows[start]])
            {
                end++;
            }
            var averageRank = (start + end) / 2.0 + 1; // ranks are 1-based; ties share their average rank
            for (var k = start; k <= end; k++)
            {
                if (labels[rows[k]] > 0.5f)
                {
                    positives++;
                    rankSum += averageRank;
                }
            }
            start = end + 1;
        }
        var negatives = rows.Length - positives;
        if (positives == 0 || negatives == 0)
        {
            return double.NaN;
        }
        return (rankSum - positives * (positives + 1) / 2) / (positives * negatives);
    }

    /// <summary>Root mean squared error over the rows with mask true (all rows without a mask); NaN when none.</summary>
    public static double Rmse(IReadOnlyList<float> predictions, IReadOnlyList<float> targets, IReadOnlyList<bool>? mask = null)
    {
        ArgumentNullException.ThrowIfNull(predictions);
        ArgumentNullException.ThrowIfNull(targets);
        if (predictions.Count != targets.Count)
        {
            throw new ArgumentException($"{predictions.Count} predictions for {targets.Count} targets", nameof(targets));
        }
        double sum = 0;
        var n = 0;
        for (var i = 0; i < predictions.Count; i++)
        {
            if (mask is not null && !mask[i])
            {
                continue;
            }
            var d = (double)predictions[i] - targets[i];
            sum += d * d;
            n++;
        }
        return n == 0 ? double.NaN : Math.Sqrt(sum / n);
    }
}
