using System.Globalization;
using System.Text;

namespace EdgeProfile.Semantic.Text;

/// <summary>
/// A model-free fallback text embedder (the "hashing trick"): lower-cased, Unicode-aware tokens; word unigrams, word
/// bigrams and character trigrams of words, each hashed with a stable hash (<see cref="StableHash"/>, FNV-1a 64 of the
/// UTF-8 feature, then <see cref="StableHash.Mix"/>) into one of <see cref="Dimensions"/> buckets with a hashed sign,
/// weighted by feature kind × (1 + ln tf), then L2-normalised. Deterministic across processes and machines, and
/// stateless, so it is safe to call from several threads.
/// </summary>
/// <remarks>
/// Tokens are maximal runs of letters, digits and combining marks (so "usb-c" gives "usb" and "c"); fullwidth ASCII
/// forms (U+FF01–U+FF5E) read as ASCII. Han, Hiragana and Katakana characters (which are written without spaces) are
/// tokens of one character each, so a Chinese or Japanese text gives character unigrams and, as token bigrams,
/// character bigrams. Similar texts share features, so their cosine is high; it measures shared wording, not meaning
/// ("backpack" and "rucksack" share nothing) — use a sentence model for that when it is available.
/// </remarks>
public sealed class HashedTextEmbedder : ITextEmbedder
{
    /// <summary>The default vector length, the same as all-MiniLM-L6-v2's.</summary>
    public const int DefaultDimensions = 384;

    private const float WordWeight = 1.0f;
    private const float IdeographWeight = 0.5f;
    private const float IdeographBigramWeight = 1.0f;
    private const float BigramWeight = 0.6f;
    private const float TrigramWeight = 0.4f;

    // Feature-kind tags hashed before the feature text, so "ab" as a word and "ab" as a trigram fall apart.
    private const char WordTag = 'w';
    private const char BigramTag = 'b';
    private const char TrigramTag = 't';

    /// <summary>Creates a hashed embedder with <paramref name="dimensions"/> buckets.</summary>
    /// <param name="dimensions">The vector length (at least 2).</param>
    public HashedTextEmbedder(int dimensions = DefaultDimensions)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(dimensions, 2);
        Dimensions = dimensions;
        Name = "hashed-" + dimensions.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary><c>hashed-{dimensions}</c>.</summary>
    public string Name { get; }

    /// <inheritdoc />
    public int Dimensions { get; }

    /// <inheritdoc />
    public float[][] Embed(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var result = new float[texts.Count][];
        var features = new Dictionary<ulong, Feature>();
        var builder = new StringBuilder();
        for (int i = 0; i < result.Length; i++)
        {
            result[i] = EmbedOne(texts[i], features, builder);
        }
        return result;
    }

    /// <summary>Embeds one text (an empty, blank or null text gives the zero vector).</summary>
    public float[] Embed(string? text) => EmbedOne(text, new Dictionary<ulong, Feature>(), new StringBuilder());

    /// <summary>
    /// The tokens the embedder sees: lower-cased runs of letters, digits and combining marks, with every Han, Hiragana
    /// and Katakana character a token of its own.
    /// </summary>
    public static IReadOnlyList<string> Tokenize(string? text)
    {
        var tokens = new List<string>();
        foreach (var token in TokenizeCore(text ?? string.Empty))
        {
            tokens.Add(token.Text);
        }
        return tokens;
    }

    private float[] EmbedOne(string? text, Dictionary<ulong, Feature> features, StringBuilder builder)
    {
        var vector = new float[Dimensions];
        if (string.IsNullOrWhiteSpace(text))
        {
            return vector;
        }

        features.Clear();
        var tokens = TokenizeCore(text);
        for (int t = 0; t < tokens.Count; t++)
        {
            var token = tokens[t];
            Count(features, WordTag, token.Text, token.Ideograph ? IdeographWeight : WordWeight, builder);
            if (t > 0)
            {
                var previous = tokens[t - 1];
                builder.Clear().Append(BigramTag).Append(previous.Text).Append(' ').Append(token.Text);
                Count(features, builder, previous.Ideograph && token.Ideograph ? IdeographBigramWeight : BigramWeight);
            }
            if (!token.Ideograph)
            {
                // Trigrams of "<word>", so prefixes and suffixes are features of their own ("<ba" of "bag", "backpack").
                string padded = "<" + token.Text + ">";
                var starts = new List<int>(padded.Length);
                for (int i = 0; i < padded.Length; i += char.IsSurrogatePair(padded, i) ? 2 : 1)
                {
                    starts.Add(i);
                }
                starts.Add(padded.Length);
                for (int r = 0; r + 3 < starts.Count; r++)
                {
                    builder.Clear().Append(TrigramTag).Append(padded, starts[r], starts[r + 3] - starts[r]);
                    Count(features, builder, TrigramWeight);
                }
            }
        }

        foreach (var (hash, feature) in features)
        {
            ulong mixed = StableHash.Mix(hash);
            int bucket = (int)(mixed % (ulong)Dimensions);
            float weight = feature.Weight * (1f + MathF.Log(feature.Count));
            vector[bucket] += (mixed >> 63) == 0 ? weight : -weight;
        }

        double norm = 0;
        foreach (float v in vector)
        {
            norm += (double)v * v;
        }
        if (norm > 0)
        {
            float scale = (float)(1.0 / Math.Sqrt(norm));
            for (int i = 0; i < vector.Length; i++)
            {
                vector[i] *= scale;
            }
        }
        return vector;
    }

    private static void Count(Dictionary<ulong, Feature> features, char tag, string text, float weight, StringBuilder builder)
    {
        builder.Clear().Append(tag).Append(text);
        Count(features, builder, weight);
    }

    private static void Count(Dictionary<ulong, Feature> features, StringBuilder feature, float weight)
    {
        ulong hash = StableHash.Fnv1aOffsetBasis;
        foreach (var chunk in feature.GetChunks())
        {
            hash = StableHash.Fnv1a64(chunk.Span, hash);
        }
        features[hash] = features.TryGetValue(hash, out var existing)
            ? existing with { Count = existing.Count + 1 }
            : new Feature(1, weight);
    }

    private static List<Token> TokenizeCore(string text)
    {
        var tokens = new List<Token>();
        var word = new StringBuilder();
        foreach (Rune raw in text.EnumerateRunes())
        {
            var rune = raw;
            if (rune.Value is >= 0xFF01 and <= 0xFF5E)
            {
                rune = new Rune(rune.Value - 0xFEE0); // fullwidth ASCII → ASCII
            }
            if (IsIdeographic(rune.Value))
            {
                Flush(word, tokens);
                tokens.Add(new Token(rune.ToString(), true));
            }
            else if (IsWordPart(rune))
            {
                word.Append(Rune.ToLowerInvariant(rune).ToString());
            }
            else
            {
                Flush(word, tokens);
            }
        }
        Flush(word, tokens);
        return tokens;
    }

    private static void Flush(StringBuilder word, List<Token> tokens)
    {
        if (word.Length > 0)
        {
            tokens.Add(new Token(word.ToString(), false));
            word.Clear();
        }
    }

    private static bool IsWordPart(Rune rune) => Rune.GetUnicodeCategory(rune) switch
    {
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
            or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter
            or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber
            or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark => true,
        _ => false,
    };

    /// <summary>Han ideographs (unified, extensions A–H, compatibility), Hiragana, Katakana (with the phonetic
    /// extensions and halfwidth forms), and the iteration mark 々: scripts written without spaces between words.</summary>
    private static bool IsIdeographic(int c) =>
        c is (>= 0x4E00 and <= 0x9FFF) or (>= 0x3400 and <= 0x4DBF) or (>= 0x20000 and <= 0x323AF)
            or (>= 0xF900 and <= 0xFAFF) or (>= 0x2F800 and <= 0x2FA1F)
            or (>= 0x3040 and <= 0x309F) or (>= 0x30A0 and <= 0x30FF) or (>= 0x31F0 and <= 0x31FF)
            or (>= 0xFF66 and <= 0xFF9D) or 0x3005;

    private readonly record struct Token(string Text, bool Ideograph);

    private readonly record struct Feature(int Count, float Weight);
}
