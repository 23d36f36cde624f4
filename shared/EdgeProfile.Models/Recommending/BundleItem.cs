namespace EdgeProfile.Models.Recommending;

/// <summary>A product a recommender knows.</summary>
/// <param name="Sku">The product id events carry.</param>
/// <param name="Name">Its name (what reasons show and text embeddings read), if known.</param>
/// <param name="Interactions">How often it occurred in the training sequences (0: a cold product, known from the catalogue only).</param>
public sealed record BundleItem(string Sku, string? Name, long Interactions);
