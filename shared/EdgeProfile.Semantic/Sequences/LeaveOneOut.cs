namespace EdgeProfile.Semantic.Sequences;

/// <summary>Which held-out item a leave-one-out case predicts.</summary>
public enum Holdout
{
    /// <summary>The second-to-last item, from the items before it (model selection).</summary>
    Validation,

    /// <summary>The last item, from every item before it (the reported figure).</summary>
    Test,
}

/// <summary>
/// The leave-one-out split of the SASRec and BERT4Rec papers: per user, the last item is the test target, the
/// second-to-last the validation target, and models train on the rest.
/// </summary>
public static class LeaveOneOut
{
    /// <summary>The items a model may train on: all but the last two (empty for sequences shorter than three).</summary>
    public static int[] TrainingPrefix(int[] sequence)
    {
        ArgumentNullException.ThrowIfNull(sequence);
        return sequence.Length < 3 ? [] : sequence[..^2];
    }

    /// <summary>The history and target of one user's case; the sequence needs at least three items.</summary>
    public static (int[] History, int Target) Case(int[] sequence, Holdout holdout)
    {
        ArgumentNullException.ThrowIfNull(sequence);
        if (sequence.Length < 3)
        {
            throw new ArgumentException($"a leave-one-out case needs at least 3 items, the sequence has {sequence.Length}", nameof(sequence));
        }

        return holdout == Holdout.Validation ? (sequence[..^2], sequence[^2]) : (sequence[..^1], sequence[^1]);
    }
}
