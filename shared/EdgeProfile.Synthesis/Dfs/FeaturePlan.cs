namespace EdgeProfile.Synthesis.Dfs;

/// <summary>A per-transaction value an aggregation reads.</summary>
internal enum RowVariable
{
    None,
    Time,
    Amount,
    Quantity,
    Hour,
    IsWeekend,
    DayOfWeek,
    Month,
    Product,
    Category,
    CategoryTop,
    Store,
    Channel,
    Basket,
    Parent,
}

/// <summary>The parent entities of transactions whose aggregates can be stacked.</summary>
internal enum ParentEntity
{
    Products,
    Stores,
    Categories,
}

/// <summary>The parent-level aggregates: of all customers' transactions before the cutoff.</summary>
internal enum ParentAggregate
{
    Count,
    MeanAmount,
    UniqueCustomers,
}

/// <summary>How to compute a feature: aggregate <see cref="Input"/> over the customer's rows in the window that pass the filter.</summary>
internal sealed record FeaturePlan(Primitive Aggregation, RowVariable Input)
{
    public TimeSpan? Window { get; init; }

    public RowVariable WhereVariable { get; init; } = RowVariable.None;

    public int WhereCode { get; init; } = -1;

    public ParentEntity Parent { get; init; }

    public ParentAggregate ParentAggregate { get; init; }

    public SynthesizedFeature? Numerator { get; init; }

    public SynthesizedFeature? Denominator { get; init; }

    public bool IsNumeric => Input is RowVariable.Amount or RowVariable.Quantity or RowVariable.Hour or RowVariable.IsWeekend or RowVariable.Parent;
}
