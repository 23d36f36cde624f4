namespace EdgeProfile.Semantic.Vectors;

/// <summary>One search result: the key of a stored vector and its cosine similarity to the query (1 = same
/// direction, 0 = orthogonal, -1 = opposite).</summary>
/// <param name="Key">The caller's key of the stored vector (a product id, a customer id).</param>
/// <param name="Similarity">The cosine similarity between the query and the stored vector.</param>
public readonly record struct VectorHit(long Key, float Similarity);
