namespace EdgeProfile.Synthesis.Mapping;

/// <summary>
/// Category taken from a second CSV joined on the product key, e.g. <c>products.csv</c> with <c>product_id</c>,
/// <c>department</c> and <c>product_category</c>: the category path becomes <c>department &gt; product_category</c>.
/// </summary>
public sealed record CategoryJoin
{
    /// <summary>The file as written in the mapping: absolute, or relative to the transactions CSV's folder (then the mapping's folder).</summary>
    public required string File { get; init; }

    /// <summary>The join file's column holding the product key (matched against the mapping's <c>product</c> column).</summary>
    public required string Key { get; init; }

    /// <summary>The join file's column holding the category (the last level of the path).</summary>
    public required string Category { get; init; }

    /// <summary>Optional join file column holding the department (the first level of the path).</summary>
    public string? Department { get; init; }
}
