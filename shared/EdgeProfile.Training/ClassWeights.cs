namespace EdgeProfile.Training;

/// <summary>Class-imbalance weights for BCE.</summary>
public static class ClassWeights
{
    /// <summary>
    /// <c>pos_weight</c> per output = negatives / positives over the labelled rows (1 when an output has no positives),
    /// which balances the two classes' total weight in the loss.
    /// </summary>
    public static float[] PositiveWeights(float[][] labels, bool[]? mask = null)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var width = labels.Length == 0 ? 0 : labels[0].Length;
        var result = new float[width];
        for (var k = 0; k < width; k++)
        {
            double pos = 0, neg = 0;
            for (var i = 0; i < labels.Length; i++)
            {
                if (mask is not null && !mask[i])
                {
                    continue;
                }
                if (labels[i][k] > 0.5f)
                {
                    pos++;
                }
                else
                {
                    neg++;
                }
            }
            result[k] = pos == 0 ? 1f : (float)(neg / pos);
        }
        return result;
    }
}
