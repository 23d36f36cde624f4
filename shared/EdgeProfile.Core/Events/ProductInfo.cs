namespace EdgeProfile.Core.Events;

/// <summary>The product an event is about. <see cref="Category"/> is a '&gt;'-separated path.</summary>
public sealed record ProductInfo(string? Sku, string? Name, string? Category, double? Price)
{
    /// <summary>The category path split into trimmed levels (empty when there is no category).</summary>
    public IReadOnlyList<string> CategoryPath => Category is null
        ? []
        : Category.Split('>', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
}
