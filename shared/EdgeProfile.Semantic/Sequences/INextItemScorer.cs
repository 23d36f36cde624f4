namespace EdgeProfile.Semantic.Sequences;

/// <summary>A model that scores candidate items as the next one after a history (higher = more likely).</summary>
public interface INextItemScorer
{
    /// <summary>Writes the score of <c>candidates[i]</c> into <c>scores[i]</c> for the given history (oldest first).</summary>
    void Score(ReadOnlySpan<int> history, ReadOnlySpan<int> candidates, Span<float> scores);
}
