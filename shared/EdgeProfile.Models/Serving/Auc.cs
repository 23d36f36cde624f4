namespace EdgeProfile.Models.Serving;

/// <summary>Area under the ROC curve, by the Mann–Whitney rank sum with tied scores sharing their average rank.</summary>
internal static class Auc
{
    public static double Compute(ReadOnlySpan<float> scores, bool[] labels)
    {
        int n = labels.Length;
        var order = new int[n];
        for (int i = 0; i < n; i++)
        {
            order[i] = i;
        }

        var keys = scores[..n].ToArray();
        Array.Sort(keys, order);
        double positiveRanks = 0;
        long positives = 0;
        for (int start = 0; start < n;)
        {
            int end = start;
            while (end + 1 < n && keys[end + 1] == keys[start])
            {
                end++;
            }

            // Ranks are 1-based; a run of ties start..end shares the mean of its ranks.
            double rank = ((start + end) / 2.0) + 1;
            for (int k = start; k <= end; k++)
            {
                if (labels[order[k]])
                {
                    positiveRanks += rank;
                    positives++;
                }
            }

            start = end + 1;
        }

        long negatives = n - positives;
        return (positiveRanks - (positives * (positives + 1) / 2.0)) / ((double)positives * negatives);
    }
}
