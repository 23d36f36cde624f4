using System.Globalization;
using EdgeProfile.Semantic.Text;

namespace EdgeProfile.Semantic.MiniLm;

/// <summary>Creates text embedders by kind (from configuration) or by <see cref="ITextEmbedder.Name"/> (to recreate
/// the embedder of a saved <see cref="EmbeddingTable"/>).</summary>
public static class TextEmbedderFactory
{
    /// <summary>The kind of <see cref="MiniLmTextEmbedder"/>.</summary>
    public const string MiniLmKind = "minilm";

    /// <summary>The kind of <see cref="HashedTextEmbedder"/>.</summary>
    public const string HashedKind = "hashed";

    /// <summary>The kinds <see cref="Create"/> accepts.</summary>
    public static IReadOnlyList<string> Kinds { get; } = [MiniLmKind, HashedKind];

    /// <summary>
    /// Creates an embedder: <c>minilm</c> (all-MiniLM-L6-v2; <paramref name="dimensions"/> must be
    /// <see langword="null"/> or 384) or <c>hashed</c> (<paramref name="dimensions"/> buckets, 384 when
    /// <see langword="null"/>). Kinds ignore case and surrounding white space. The caller disposes the result when it
    /// is <see cref="IDisposable"/>.
    /// </summary>
    /// <exception cref="ArgumentException">An unknown kind (the message names the accepted ones) or dimensions the
    /// kind cannot have.</exception>
    public static ITextEmbedder Create(string kind, int? dimensions = null)
    {
        ArgumentNullException.ThrowIfNull(kind);
        switch (kind.Trim().ToLowerInvariant())
        {
            case MiniLmKind:
                if (dimensions is { } d && d != MiniLmTextEmbedder.ModelDimensions)
                {
                    throw new ArgumentException($"The minilm embedder has {MiniLmTextEmbedder.ModelDimensions} dimensions, not {d}.", nameof(dimensions));
                }
                return new MiniLmTextEmbedder();
            case HashedKind:
                int buckets = dimensions ?? HashedTextEmbedder.DefaultDimensions;
                if (buckets < 2)
                {
                    throw new ArgumentException($"The hashed embedder needs at least 2 dimensions, not {buckets}.", nameof(dimensions));
                }
                return new HashedTextEmbedder(buckets);
            default:
                throw new ArgumentException($"Unknown text embedder kind '{kind}'; the accepted kinds are: {string.Join(", ", Kinds)}.", nameof(kind));
        }
    }

    /// <summary>
    /// Creates the embedder whose <see cref="ITextEmbedder.Name"/> is <paramref name="name"/>: <c>all-MiniLM-L6-v2</c>
    /// or <c>hashed-{dimensions}</c> (e.g. the <see cref="EmbeddingTable.Name"/> of a saved table).
    /// </summary>
    /// <exception cref="ArgumentException">No embedder has that name.</exception>
    public static ITextEmbedder FromName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (string.Equals(name, MiniLmTextEmbedder.ModelName, StringComparison.Ordinal))
        {
            return new MiniLmTextEmbedder();
        }
        const string prefix = "hashed-";
        if (name.StartsWith(prefix, StringComparison.Ordinal)
            && int.TryParse(name.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int dimensions)
            && dimensions >= 2
            && string.Equals(name, new HashedTextEmbedder(dimensions).Name, StringComparison.Ordinal))
        {
            return new HashedTextEmbedder(dimensions);
        }
        throw new ArgumentException($"No text embedder is named '{name}'; known names are '{MiniLmTextEmbedder.ModelName}' and 'hashed-{{dimensions}}'.", nameof(name));
    }
}
