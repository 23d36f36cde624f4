namespace EdgeProfile.Training.Graph;

/// <summary>
/// One purchase line as the graph sees it: a customer bought a product of a category at a time. The customer–product
/// edge and the product–category edge of <see cref="HeteroGraph"/> come from these.
/// </summary>
/// <param name="Customer">Customer (household) id.</param>
/// <param name="Product">Product id.</param>
/// <param name="Category">The product's category.</param>
/// <param name="Time">When the line was bought.</param>
public readonly record struct GraphPurchase(string Customer, string Product, string Category, DateTimeOffset Time);
