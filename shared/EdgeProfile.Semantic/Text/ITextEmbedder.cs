namespace EdgeProfile.Semantic.Text;

/// <summary>
/// Turns texts (product names and descriptions, search queries, reviews) into fixed-length sentence embeddings.
/// Implementations return unit-length vectors of <see cref="Dimensions"/> floats, so a dot product is a cosine, and
/// are safe to call from several threads.
/// </summary>
public interface ITextEmbedder
{
    /// <summary>A stable name of the model and its settings (e.g. <c>all-MiniLM-L6-v2</c>, <c>hashed-384</c>); vectors
    /// from embedders with different names are not comparable.</summary>
    string Name { get; }

    /// <summary>The length of every vector.</summary>
    int Dimensions { get; }

    /// <summary>Embeds each text; the result has one unit-length vector per text, in order (an empty or blank text
    /// gives the zero vector).</summary>
    float[][] Embed(IReadOnlyList<string> texts);
}
