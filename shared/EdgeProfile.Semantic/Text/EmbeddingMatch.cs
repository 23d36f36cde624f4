namespace EdgeProfile.Semantic.Text;

/// <summary>One result of <see cref="EmbeddingTable.MostSimilar"/>: a key and the cosine similarity of its vector to
/// the query.</summary>
/// <param name="Key">The key of the vector.</param>
/// <param name="Similarity">The cosine similarity to the query, in [-1, 1].</param>
public readonly record struct EmbeddingMatch(string Key, float Similarity);
