namespace EdgeProfile.Models.Recommending;

/// <summary>One recommended product with why, in English and Chinese.</summary>
/// <param name="Sku">The product id.</param>
/// <param name="Name">Its name, if known.</param>
/// <param name="Score">The ranking score of its <paramref name="Source"/> (comparable only within one source).</param>
/// <param name="Source"><c>sasrec</c> (next-item model), <c>item2vec</c> (products bought together), <c>text</c>
/// (similar names: how new products without interactions get in) or <c>popular</c> (no history to go on).</param>
/// <param name="BecauseOfSku">The product in the customer's history it follows from, if any.</param>
/// <param name="BecauseOfName">That product's name, if known.</param>
/// <param name="ReasonEn">The reason in English.</param>
/// <param name="ReasonZh">The reason in Chinese.</param>
public sealed record Recommendation(string Sku, string? Name, double Score, string Source, string? BecauseOfSku, string? BecauseOfName, string ReasonEn, string ReasonZh);

/// <summary>A product in the customer's recent history (oldest first when passed as a list).</summary>
/// <param name="Sku">The product id.</param>
/// <param name="Name">Its name as the event gave it, if any (embedded when the bundle does not know the product).</param>
/// <param name="Type">The event type's wire name (<c>view</c>, <c>add_to_cart</c>, <c>purchase</c>, <c>review</c>, <c>like</c>).</param>
public sealed record RecentInteraction(string Sku, string? Name, string Type);

/// <summary>How a <see cref="Recommender"/> mixes its sources.</summary>
public sealed record RecommenderOptions
{
    /// <summary>At most this many cold products (no interactions, recommended for their names) per list. Default 3.</summary>
    public int ColdSlots { get; init; } = 3;

    /// <summary>
    /// The cosine a cold product's name needs with the customer's recent products to be recommended. Default null: the
    /// bundle's calibrated bar (<see cref="Recommender.ColdThresholdMetric"/>), else 0.35.
    /// </summary>
    public float? MinColdSimilarity { get; init; }

    /// <summary>Leave out products already in the customer's recent history. Default true.</summary>
    public bool ExcludeSeen { get; init; } = true;

    /// <summary>How many of the newest history items item2vec averages. Default 3.</summary>
    public int Item2VecContext { get; init; } = 3;

    /// <summary>Checks the options; throws <see cref="ArgumentException"/> naming the wrong one.</summary>
    public void Validate()
    {
        if (ColdSlots is < 0 or > 100)
        {
            throw new ArgumentException($"ColdSlots must be 0-100, got {ColdSlots}");
        }

        if (MinColdSimilarity is { } m && !(m is >= -1 and <= 1))
        {
            throw new ArgumentException($"MinColdSimilarity must be in [-1, 1], got {MinColdSimilarity}");
        }

        if (Item2VecContext < 1)
        {
            throw new ArgumentException($"Item2VecContext must be at least 1, got {Item2VecContext}");
        }
    }
}
