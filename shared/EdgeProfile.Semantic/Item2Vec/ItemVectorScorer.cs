using EdgeProfile.Semantic.Sequences;

namespace EdgeProfile.Semantic.Item2Vec;

/// <summary>
/// Next-item scores from item vectors: the history is summarised as the mean of the unit vectors of its last
/// <see cref="LastItems"/> known items (most recent last; unknown items are skipped), and a candidate's score is the
/// cosine between its vector and that mean. Candidates never seen in training (and padding, 0) score negative infinity;
/// with no known item in the history every known candidate scores 0. Immutable and thread-safe.
/// </summary>
public sealed class ItemVectorScorer : INextItemScorer
{
    private readonly float[] units;
    private readonly ItemVectors vectors;

    /// <summary>Scores with <paramref name="vectors"/> over the last <paramref name="lastItems"/> known history items.</summary>
    public ItemVectorScorer(ItemVectors vectors, int lastItems = ItemVectors.DefaultScorerItems)
    {
        ArgumentNullException.ThrowIfNull(vectors);
        ArgumentOutOfRangeException.ThrowIfLessThan(lastItems, 1);
        this.vectors = vectors;
        units = vectors.Units();
        LastItems = lastItems;
    }

    /// <summary>How many of the most recent known history items are averaged.</summary>
    public int LastItems { get; }

    /// <inheritdoc />
    /// <exception cref="ArgumentException">scores is not as long as candidates.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A candidate is outside 0..ItemCount.</exception>
    public void Score(ReadOnlySpan<int> history, ReadOnlySpan<int> candidates, Span<float> scores)
    {
        if (scores.Length != candidates.Length)
        {
            throw new ArgumentException($"scores has {scores.Length} entries for {candidates.Length} candidates", nameof(scores));
        }
        var dim = vectors.Dimensions;
        var mean = dim <= 1024 ? stackalloc float[dim] : new float[dim];
        mean.Clear();
        var used = 0;
        for (var i = history.Length - 1; i >= 0 && used < LastItems; i--)
        {
            var item = history[i];
            if (!vectors.IsKnown(item))
            {
                continue;
            }
            var row = units.AsSpan(item * dim, dim);
            for (var d = 0; d < dim; d++)
            {
                mean[d] += row[d];
            }
            used++;
        }
        var norm = MathF.Sqrt(ItemVectors.Dot(mean, mean));
        if (norm > 0)
        {
            for (var d = 0; d < dim; d++)
            {
                mean[d] /= norm;
            }
        }
        for (var i = 0; i < candidates.Length; i++)
        {
            var c = candidates[i];
            if ((uint)c > (uint)vectors.ItemCount)
            {
                throw new ArgumentOutOfRangeException(nameof(candidates), c, $"item ids run from 0 to {vectors.ItemCount}");
            }
            scores[i] = vectors.IsKnown(c) ? ItemVectors.Dot(mean, units.AsSpan(c * dim, dim)) : float.NegativeInfinity;
        }
    }
}
