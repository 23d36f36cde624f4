namespace EdgeProfile.Semantic.Vectors;

/// <summary>
/// A store of keyed vectors that answers "which stored vectors are most similar to this one" (similar products,
/// similar customers). Similarity is cosine: vectors are normalised to unit length on insert (a zero vector is refused)
/// and queries are normalised too, so callers may pass raw embeddings. Implementations are safe for concurrent
/// searches alongside one writer.
/// </summary>
public interface IVectorIndex
{
    /// <summary>The length every stored and query vector must have.</summary>
    int Dimensions { get; }

    /// <summary>The number of live (searchable) keys.</summary>
    int Count { get; }

    /// <summary>Adds <paramref name="key"/> with <paramref name="vector"/>, or replaces the vector of an existing key.</summary>
    /// <param name="key">The caller's key.</param>
    /// <param name="vector">The vector; its length must be <see cref="Dimensions"/>.</param>
    /// <exception cref="ArgumentException">The length is wrong, or the vector is zero or not finite.</exception>
    void Upsert(long key, ReadOnlySpan<float> vector);

    /// <summary>Removes <paramref name="key"/>; later searches never return it.</summary>
    /// <param name="key">The caller's key.</param>
    /// <returns><see langword="true"/> if the key was present.</returns>
    bool Remove(long key);

    /// <summary>The (up to) <paramref name="k"/> stored vectors most similar to <paramref name="query"/>, best first.</summary>
    /// <param name="query">The query vector; its length must be <see cref="Dimensions"/>.</param>
    /// <param name="k">How many results to return at most (at least 1).</param>
    /// <param name="filter">If given, only keys for which it returns <see langword="true"/> are returned.</param>
    /// <returns>Hits ordered by descending similarity.</returns>
    /// <exception cref="ArgumentException">The length is wrong, or the query is zero or not finite.</exception>
    IReadOnlyList<VectorHit> Search(ReadOnlySpan<float> query, int k, Func<long, bool>? filter = null);

    /// <summary>Whether <paramref name="key"/> is stored (and not removed).</summary>
    /// <param name="key">The caller's key.</param>
    /// <returns><see langword="true"/> if a later search may return the key.</returns>
    bool Contains(long key);
}
