namespace EdgeProfile.Synthesis.Labels;

/// <summary>What is predicted from the features at a cutoff, over the horizon after it.</summary>
public enum LabelKind
{
    /// <summary>1 when the customer has any transaction in (cutoff, cutoff + horizon], else 0.</summary>
    Repurchase,

    /// <summary>1 when the customer has no transaction in (cutoff, cutoff + horizon], else 0.</summary>
    Churn,

    /// <summary>The customer's total amount in (cutoff, cutoff + horizon].</summary>
    Spend,
}
