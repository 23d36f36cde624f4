namespace EdgeProfile.Synthesis.Dfs;

/// <summary>One row of a feature matrix: a customer (index into the entity set) and the cutoff its values are computed at.</summary>
/// <param name="Customer">Customer index.</param>
/// <param name="Cutoff">Cutoff, Unix ms: values use only rows with time strictly before it.</param>
public readonly record struct CutoffRow(int Customer, long Cutoff);
