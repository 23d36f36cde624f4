using EdgeProfile.Core.Events;
using EdgeProfile.Core.Features;

namespace EdgeProfile.Core.Explanations;

/// <summary>
/// Feature groups for attributions: a stable key per definition derived from its structure (category, recency, spend,
/// purchases, browsing, cart, returns, conversion, session, activity), with display names in English and Chinese.
/// </summary>
public static class FeatureGrouping
{
    /// <summary>The prefix of category group keys, e.g. <c>category:baby_toddler</c>.</summary>
    public const string CategoryPrefix = "category:";

    private static readonly Dictionary<string, (string En, string Zh)> Names = new(StringComparer.Ordinal)
    {
        ["recency"] = ("recency", "最近活跃"),
        ["spend"] = ("spend", "消费金额"),
        ["purchases"] = ("purchase history", "购买次数"),
        ["browsing"] = ("browsing", "浏览行为"),
        ["cart"] = ("cart activity", "加购行为"),
        ["returns"] = ("returns", "退货"),
        ["conversion"] = ("conversion", "转化率"),
        ["session"] = ("current session", "当前会话"),
        ["activity"] = ("activity", "活跃度"),
    };

    private static readonly EventType[] BrowsingTypes = [EventType.View, EventType.Search, EventType.VideoWatch];
    private static readonly EventType[] CartTypes = [EventType.AddToCart, EventType.RemoveFromCart];

    /// <summary>
    /// The group of a definition: the override for its name when <paramref name="overrides"/> has one; else
    /// <c>category:&lt;slug&gt;</c> for a category filter, <c>recency</c> for time since last, <c>returns</c> for
    /// return events, <c>spend</c> for sum/mean/min/max of amount or price, <c>purchases</c> for purchase counts,
    /// <c>browsing</c> for views and distinct SKUs, <c>cart</c> for cart events, <c>conversion</c> for ratios,
    /// <c>session</c> for session windows and <c>activity</c> for the rest.
    /// </summary>
    public static string GroupOf(FeatureDefinition d, IReadOnlyDictionary<string, string>? overrides = null)
    {
        ArgumentNullException.ThrowIfNull(d);
        if (overrides is not null && overrides.TryGetValue(d.Name, out var explicitGroup) && !string.IsNullOrWhiteSpace(explicitGroup))
        {
            return explicitGroup;
        }

        if (CategoryMatcher.TopLevel(d.CategoryPrefix) is { } top)
        {
            return CategoryPrefix + Slug(top);
        }

        var agg = d.Aggregation;
        var types = d.EventTypes;
        if (agg.Kind == AggregationKind.TimeSinceLast)
        {
            return "recency";
        }

        if (Only(types, EventType.Return))
        {
            return "returns";
        }

        if (agg.Kind is AggregationKind.Sum or AggregationKind.Mean or AggregationKind.Min or AggregationKind.Max
            && agg.Field is FeatureField.Amount or FeatureField.Price)
        {
            return "spend";
        }

        if (Only(types, EventType.Purchase)
            && (agg.Kind is AggregationKind.Count or AggregationKind.DistinctCount
                || (agg.Kind == AggregationKind.Sum && agg.Field == FeatureField.Quantity)))
        {
            return "purchases";
        }

        if ((agg.Kind == AggregationKind.DistinctCount && agg.Field == FeatureField.Sku)
            || (types.Count > 0 && types.All(BrowsingTypes.Contains)))
        {
            return "browsing";
        }

        if (types.Count > 0 && types.All(CartTypes.Contains))
        {
            return "cart";
        }

        if (agg.Kind == AggregationKind.Ratio)
        {
            return "conversion";
        }

        return d.Window.Kind == WindowKind.Session ? "session" : "activity";
    }

    /// <summary>
    /// Groups a model's features (in order) by <see cref="GroupOf"/> over <paramref name="set"/>: each group with the
    /// indexes of its members, groups in order of first member. A name the set does not define is its own group
    /// (named after the feature) unless <paramref name="overrides"/> places it.
    /// </summary>
    public static IReadOnlyList<(string Group, int[] Members)> Group(
        IReadOnlyList<string> featureNames, FeatureSet set, IReadOnlyDictionary<string, string>? overrides = null)
    {
        ArgumentNullException.ThrowIfNull(featureNames);
        ArgumentNullException.ThrowIfNull(set);
        var order = new List<string>();
        var members = new Dictionary<string, List<int>>(StringComparer.Ordinal);
        for (var i = 0; i < featureNames.Count; i++)
        {
            var name = featureNames[i];
            string group;
            if (overrides is not null && overrides.TryGetValue(name, out var explicitGroup) && !string.IsNullOrWhiteSpace(explicitGroup))
            {
                group = explicitGroup;
            }
            else
            {
                group = set.Find(name) is { } d ? GroupOf(d) : name;
            }

            if (!members.TryGetValue(group, out var list))
            {
                list = [];
                members[group] = list;
                order.Add(group);
            }

            list.Add(i);
        }

        return order.Select(g => (g, members[g].ToArray())).ToArray();
    }

    /// <summary>
    /// A group's name for people: <c>recency</c>/<c>最近活跃</c>, <c>spend</c>/<c>消费金额</c>,
    /// <c>category:baby_toddler</c> → <c>baby-category activity</c>/<c>母婴品类行为</c>; an unknown key is shown
    /// as itself (underscores as spaces).
    /// </summary>
    public static string DisplayName(string group, ReasonLanguage lang)
    {
        ArgumentNullException.ThrowIfNull(group);
        var zh = lang == ReasonLanguage.ZhCn;
        if (Names.TryGetValue(group, out var n))
        {
            return zh ? n.Zh : n.En;
        }

        if (group.StartsWith(CategoryPrefix, StringComparison.Ordinal))
        {
            var slug = group[CategoryPrefix.Length..];
            if (CategoryNames.Find(slug) is { } known)
            {
                return zh ? known.Zh + "品类行为" : known.En + "-category activity";
            }

            var plain = slug.Replace('_', ' ');
            return zh ? plain + "品类行为" : plain + " category activity";
        }

        return group.Replace('_', ' ');
    }

    /// <summary>
    /// The English noun and Chinese name of a category (a spelling such as <c>Baby &amp; Toddler</c>, a path whose top
    /// level is one, or a group slug such as <c>baby_toddler</c>) when it is one of the retail segments
    /// <see cref="InterestTags"/> knows (<c>baby</c>/<c>母婴</c>); null otherwise.
    /// </summary>
    public static (string En, string Zh)? CategoryName(string? category) => CategoryNames.Find(category);

    /// <summary>A stable key for text: lower case, letters and digits kept, other runs as one underscore.</summary>
    internal static string Slug(string text)
    {
        var chars = text.Trim().ToLowerInvariant().Select(ch => char.IsLetterOrDigit(ch) ? ch : '_').ToArray();
        var slug = string.Join('_', new string(chars).Split('_', StringSplitOptions.RemoveEmptyEntries));
        return slug.Length == 0 ? "other" : slug[..Math.Min(slug.Length, 40)];
    }

    private static bool Only(IReadOnlyList<EventType> types, EventType type) => types.Count > 0 && types.All(t => t == type);
}

/// <summary>
/// Names of the retail segments <see cref="InterestTags"/> knows, for sentences: the same category spellings and tags,
/// a short English noun (<c>baby</c>) and InterestTags' Chinese name (<c>母婴</c>).
/// </summary>
internal static class CategoryNames
{
    /// <summary>The known segments (<see cref="InterestTags"/>' own list): category spellings, tag, English noun,
    /// Chinese name; sentences say "baby products" where the tag says "mother-and-baby".</summary>
    internal static readonly (string[] Categories, string Tag, string En, string Zh)[] Known =
        [.. InterestTags.Segments.Select(k => k.Tag == "mother_and_baby" ? k with { En = "baby" } : k)];

    private static readonly Dictionary<string, (string En, string Zh)> ByKey = Build();

    /// <summary>The names of a category (a spelling, a path whose top level is one, or a slug of one); null when unknown.</summary>
    internal static (string En, string Zh)? Find(string? category)
    {
        if (CategoryMatcher.TopLevel(category) is not { } top)
        {
            return null;
        }

        var key = top.ToLowerInvariant();
        if (ByKey.TryGetValue(key, out var names) || ByKey.TryGetValue(FeatureGrouping.Slug(top), out names))
        {
            return names;
        }

        return null;
    }

    private static Dictionary<string, (string En, string Zh)> Build()
    {
        var map = new Dictionary<string, (string En, string Zh)>(StringComparer.Ordinal);
        foreach (var (categories, _, en, zh) in Known)
        {
            foreach (var c in categories)
            {
                map.TryAdd(c, (en, zh));
                map.TryAdd(FeatureGrouping.Slug(c), (en, zh));
            }
        }

        return map;
    }
}
