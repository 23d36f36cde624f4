namespace EdgeProfile.Semantic.Sequences;

/// <summary>The most-popular baseline: an item's score is how often it occurs in the training prefixes, whatever the history.</summary>
public sealed class MostPopularScorer : INextItemScorer
{
    private readonly float[] counts;

    /// <summary>Counts items over the leave-one-out training prefixes of <paramref name="data"/>.</summary>
    public MostPopularScorer(SequenceDataset data)
    {
        ArgumentNullException.ThrowIfNull(data);
        counts = new float[data.ItemCount + 1];
        foreach (var s in data.Sequences)
        {
            foreach (var item in LeaveOneOut.TrainingPrefix(s))
            {
                counts[item]++;
            }
        }
    }

    /// <inheritdoc />
    public void Score(ReadOnlySpan<int> history, ReadOnlySpan<int> candidates, Span<float> scores)
    {
        for (var i = 0; i < candidates.Length; i++)
        {
            var c = candidates[i];
            scores[i] = c > 0 && c < counts.Length ? counts[c] : 0f;
        }
    }
}
