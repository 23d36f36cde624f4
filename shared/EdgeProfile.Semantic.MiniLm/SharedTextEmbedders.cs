using System.Collections.Concurrent;

namespace EdgeProfile.Semantic.MiniLm;

/// <summary>
/// One embedder per name for the whole process (the MiniLM model takes ≈ 350 MB and half a second to load, and is
/// loaded on first use only): what a hub or an edge uses to embed texts for the vectors of a recommender bundle.
/// </summary>
public static class SharedTextEmbedders
{
    private static readonly ConcurrentDictionary<string, Lazy<Text.ITextEmbedder?>> Embedders = new(StringComparer.Ordinal);

    /// <summary>The embedder named <paramref name="name"/> (see <see cref="TextEmbedderFactory.FromName"/>), or null for
    /// a null or unknown name.</summary>
    public static Text.ITextEmbedder? ForName(string? name)
    {
        if (string.IsNullOrEmpty(name))
        {
            return null;
        }

        return Embedders.GetOrAdd(name, n => new Lazy<Text.ITextEmbedder?>(() =>
        {
            try
            {
                return TextEmbedderFactory.FromName(n);
            }
            catch (ArgumentException)
            {
                return null;
            }
        })).Value;
    }
}
