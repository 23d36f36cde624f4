using System.Globalization;
using EdgeProfile.Core.Profiles;

namespace EdgeProfile.Core.Features;

/// <summary>
/// Interest tags from a category-affinity ranking (a top-k feature over top-level categories): every category with a
/// large enough share of the customer's weighted interest becomes a tag, with the figures as the reason.
/// </summary>
public static class InterestTags
{
    /// <summary>Smallest share of the window's interest weight for a tag.</summary>
    public const double MinShare = 0.3;

    /// <summary>Smallest interest weight (e.g. three views, or one like and one view) for a tag.</summary>
    public const double MinWeight = 3;

    private static readonly (string[] Categories, string Tag, string En, string Zh)[] Known =
    [
        (["baby", "baby & toddler", "mother & baby", "mom & baby", "maternity", "母婴"], "mother_and_baby", "mother-and-baby", "母婴"),
        (["women", "womens", "women's", "ladies", "女装"], "female_shopper", "women's fashion", "女性时尚"),
        (["men", "mens", "men's", "男装"], "male_shopper", "men's fashion", "男性时尚"),
        (["beauty", "cosmetics", "beauty & personal care", "美妆"], "beauty_lover", "beauty", "美妆"),
        (["electronics", "digital", "数码"], "tech_enthusiast", "electronics", "数码电子"),
        (["sports", "sports & outdoors", "outdoor", "运动"], "sports_fan", "sports and outdoors", "运动户外"),
        (["home", "home & garden", "home & kitchen", "家居"], "home_maker", "home and living", "家居生活"),
        (["food", "grocery", "fresh", "生鲜", "食品"], "grocery_shopper", "food and grocery", "食品生鲜"),
        (["pets", "pet supplies", "宠物"], "pet_owner", "pet supplies", "宠物用品"),
    ];

    /// <summary>The known retail segments: category spellings, tag, English and Chinese names (reasons use them too).</summary>
    internal static IReadOnlyList<(string[] Categories, string Tag, string En, string Zh)> Segments => Known;

    /// <summary>The tag name for a top-level category: a known retail segment, else <c>interest_{slug}</c>.</summary>
    public static string TagFor(string category)
    {
        ArgumentNullException.ThrowIfNull(category);
        var known = Find(category);
        return known?.Tag ?? "interest_" + Slug(category);
    }

    /// <summary>
    /// The category-affinity definition of a set: the top-k over top-level categories in a sliding or tumbling window,
    /// <c>category_affinity_30d</c> when present, else the longest window; null when the set has none.
    /// </summary>
    public static FeatureDefinition? AffinityDefinition(FeatureSet set)
    {
        ArgumentNullException.ThrowIfNull(set);
        return set.Definitions
            .Where(d => d.Aggregation.Kind == AggregationKind.TopK && d.Aggregation.Field == FeatureField.CategoryTop
                        && d.Window.Kind is WindowKind.Sliding or WindowKind.Tumbling)
            .OrderByDescending(d => string.Equals(d.Name, "category_affinity_30d", StringComparison.Ordinal))
            .ThenByDescending(d => d.Window.Size)
            .FirstOrDefault();
    }

    /// <summary>Tags for the categories of <paramref name="affinity"/> (a reading of a top-k category feature).</summary>
    public static IReadOnlyList<ProfileTag> From(FeatureReading affinity)
    {
        ArgumentNullException.ThrowIfNull(affinity);
        var tags = new List<ProfileTag>();
        if (affinity.Value.Ranking is not { Count: > 0 } ranking || affinity.Status == FeatureStatus.Missing)
        {
            return tags;
        }

        var window = affinity.Definition.Window.Kind is WindowKind.Sliding or WindowKind.Tumbling
            ? Durations.Format(affinity.Definition.Window.Size)
            : null;
        for (var i = 0; i < ranking.Count; i++)
        {
            var r = ranking[i];
            if (r.Share < MinShare || r.Weight < MinWeight)
            {
                continue;
            }

            var known = Find(r.Value);
            var en = known?.En ?? r.Value;
            var zh = known?.Zh ?? r.Value;
            var pct = (r.Share * 100).ToString("0", CultureInfo.InvariantCulture);
            var lead = i == 0 ? "leads" : "is strong in";
            var leadZh = i == 0 ? "居首" : "占比较高";
            var span = window is null ? "" : $" over the last {window}";
            var spanZh = window is null ? "" : $"近{window.Replace("d", "天", StringComparison.Ordinal)}";
            tags.Add(new ProfileTag(
                TagFor(r.Value),
                $"{en} interest: '{r.Value}' {lead} category affinity with {pct}% of weighted interest{span} ({affinity.Definition.Id})",
                $"{zh}兴趣：{spanZh}“{r.Value}”在品类偏好中{leadZh}，占加权兴趣的 {pct}%（{affinity.Definition.Id}）"));
        }

        return tags;
    }

    private static (string[] Categories, string Tag, string En, string Zh)? Find(string category)
    {
        var c = category.Trim().ToLowerInvariant();
        foreach (var k in Known)
        {
            if (k.Categories.Contains(c))
            {
                return k;
            }
        }

        return null;
    }

    private static string Slug(string text)
    {
        var chars = text.Trim().ToLowerInvariant().Select(ch => char.IsAsciiLetterOrDigit(ch) ? ch : '_').ToArray();
        var slug = string.Join('_', new string(chars).Split('_', StringSplitOptions.RemoveEmptyEntries));
        return slug.Length == 0 ? "other" : slug[..Math.Min(slug.Length, 40)];
    }
}
