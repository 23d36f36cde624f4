using System.Globalization;
using EdgeProfile.Core.Events;
using EdgeProfile.Core.Features;

namespace EdgeProfile.Core.Explanations;

/// <summary>The Shapley value of one feature group for one score.</summary>
/// <param name="Group">The group key (see <see cref="FeatureGrouping"/>), e.g. <c>recency</c> or <c>category:baby_toddler</c>.</param>
/// <param name="Phi">The group's Shapley value φ: positive raises the score, negative lowers it.</param>
/// <param name="Features">The names of the group's member features.</param>
public sealed record GroupContribution(string Group, double Phi, IReadOnlyList<string> Features);

/// <summary>What a model said about one customer, for <see cref="ReasonWriter"/>.</summary>
/// <param name="Task">The model task: <c>repurchase_30d</c>, <c>churn_90d</c>, <c>ltv_90d</c>, <c>category_propensity</c> or any other name.</param>
/// <param name="Label">The label scored, for multi-label tasks (e.g. <c>Baby &amp; Toddler</c>); null otherwise.</param>
/// <param name="Score">The score explained.</param>
/// <param name="ModelVersion">The model version, the reasons' <see cref="Reason.Source"/>.</param>
/// <param name="Contributions">φ per feature group.</param>
/// <param name="Values">Feature name → the customer's value the model used.</param>
/// <param name="Baseline">Feature name → the background mean, when known.</param>
/// <param name="Definitions">The definitions of the model's features.</param>
/// <param name="Top">At most this many reasons.</param>
public sealed record ReasonRequest(
    string Task,
    string? Label,
    double Score,
    string ModelVersion,
    IReadOnlyList<GroupContribution> Contributions,
    IReadOnlyDictionary<string, double> Values,
    IReadOnlyDictionary<string, double>? Baseline,
    IReadOnlyList<FeatureDefinition> Definitions,
    int Top = 3);

/// <summary>
/// Turns a score's group attributions into business-language reasons in English or Chinese: the groups with the
/// largest |φ| (ties by group name, φ = 0 skipped), each one sentence framed by the task and the sign of φ
/// ("Churn risk is higher because your last purchase was 45 days ago" / "流失风险较高，因为您上次购买是在45天前"),
/// citing the customer's own value of the group's most telling feature, phrased from the feature definition's
/// structure (aggregation, event types, window, category). A feature it cannot phrase is cited by its description
/// (English) or name (Chinese) and value.
/// </summary>
public static class ReasonWriter
{
    private static readonly CultureInfo Inv = CultureInfo.InvariantCulture;

    /// <summary>The reasons for <paramref name="request"/>, strongest first, in <paramref name="language"/>.</summary>
    public static IReadOnlyList<Reason> Write(ReasonRequest request, ReasonLanguage language)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentException.ThrowIfNullOrWhiteSpace(request.Task);
        ArgumentNullException.ThrowIfNull(request.ModelVersion);
        ArgumentNullException.ThrowIfNull(request.Contributions);
        ArgumentNullException.ThrowIfNull(request.Values);
        ArgumentNullException.ThrowIfNull(request.Definitions);
        ArgumentOutOfRangeException.ThrowIfNegative(request.Top);

        var zh = language == ReasonLanguage.ZhCn;
        var definitions = new Dictionary<string, FeatureDefinition>(StringComparer.Ordinal);
        foreach (var d in request.Definitions)
        {
            definitions.TryAdd(d.Name, d);
        }

        var chosen = request.Contributions
            .Where(c => c is not null && c.Phi != 0 && double.IsFinite(c.Phi))
            .OrderByDescending(c => Math.Abs(c.Phi))
            .ThenBy(c => c.Group, StringComparer.Ordinal)
            .Take(request.Top);
        var reasons = new List<Reason>();
        foreach (var c in chosen)
        {
            var up = c.Phi > 0;
            var frame = Frame(request.Task, request.Label, up, zh);
            var evidence = new List<ReasonEvidence>();
            string text;
            if (MostTelling(c, request) is { } feature)
            {
                var value = request.Values[feature];
                definitions.TryGetValue(feature, out var d);
                var phrased = d is null ? null : Phrase(d, value, zh);
                string display;
                if (phrased is { } p)
                {
                    display = p.Display;
                    text = zh ? $"{frame}，因为{p.Clause}" : $"{frame} because {p.Clause}";
                }
                else
                {
                    display = Plain(value);
                    var description = d is not null && !string.IsNullOrWhiteSpace(d.Description) ? d.Description.Trim() : feature;
                    text = zh ? $"{frame}，因为{Clean(feature)}：{display}" : $"{frame} because of {Clean(description)}: {display}";
                }

                evidence.Add(new ReasonEvidence(d?.Id ?? feature, value, display));
            }
            else
            {
                var group = FeatureGrouping.DisplayName(c.Group ?? "", language);
                text = zh ? $"{frame}，因为您的{Clean(group)}" : $"{frame} because of your {Clean(group)}";
            }

            reasons.Add(new Reason(
                ReasonKind.Attribution,
                $"{request.Task}:{c.Group}:{(up ? "+" : "-")}",
                text,
                c.Phi,
                up ? 1 : -1,
                request.ModelVersion,
                evidence,
                c.Group));
        }

        return reasons;
    }

    /// <summary>
    /// The member with a usable value that stands out most: the largest |value − baseline| / (|baseline| + 1), a
    /// missing baseline counting as 0 (so without baselines, the largest |value|); ties to the first member.
    /// </summary>
    private static string? MostTelling(GroupContribution c, ReasonRequest request)
    {
        string? best = null;
        var bestScore = double.NegativeInfinity;
        foreach (var f in c.Features ?? [])
        {
            if (f is null || !request.Values.TryGetValue(f, out var v) || !double.IsFinite(v))
            {
                continue;
            }

            var b = request.Baseline is not null && request.Baseline.TryGetValue(f, out var m) && double.IsFinite(m) ? m : 0.0;
            var score = Math.Abs(v - b) / (Math.Abs(b) + 1);
            if (score > bestScore)
            {
                best = f;
                bestScore = score;
            }
        }

        return best;
    }

    private static string Frame(string task, string? label, bool up, bool zh)
    {
        switch (task.Trim().ToLowerInvariant())
        {
            case "churn_90d":
                return zh ? (up ? "流失风险较高" : "流失风险较低") : (up ? "Churn risk is higher" : "Churn risk is lower");
            case "repurchase_30d":
                return zh ? (up ? "近期复购可能性较高" : "近期复购可能性较低")
                    : (up ? "More likely to buy again soon" : "Less likely to buy again soon");
            case "ltv_90d":
                return zh ? (up ? "预计90天价值较高" : "预计90天价值较低")
                    : (up ? "Expected 90-day value is higher" : "Expected 90-day value is lower");
            case "category_propensity":
                if (string.IsNullOrWhiteSpace(label))
                {
                    return zh ? (up ? "品类偏好较高" : "品类偏好较低") : (up ? "Category interest is higher" : "Category interest is lower");
                }

                var en = Clean(label.Trim());
                var cn = Clean(FeatureGrouping.CategoryName(label)?.Zh ?? label.Trim());
                return zh ? (up ? $"推荐{cn}商品" : $"对{cn}商品的兴趣较低")
                    : (up ? $"Recommended {en} products" : $"Less likely to be interested in {en} products");
            default:
                var t = Clean(task.Trim());
                return zh ? $"{t}评分{(up ? "较高" : "较低")}" : $"{t} score is {(up ? "higher" : "lower")}";
        }
    }

    /// <summary>The clause for a definition's value (after "because"/"因为") and the value as shown; null when the structure has no phrasing.</summary>
    private static (string Clause, string Display)? Phrase(FeatureDefinition d, double v, bool zh)
    {
        var agg = d.Aggregation;
        var types = d.EventTypes.Distinct().ToArray();
        var single = types.Length == 1 ? Acts.Get(types[0]) : null;
        var cat = CategoryWords(d.CategoryPrefix);
        switch (agg.Kind)
        {
            case AggregationKind.Count:
                return CountClause(d, single, cat, v, zh);
            case AggregationKind.Sum or AggregationKind.Mean or AggregationKind.Min or AggregationKind.Max:
                return FieldClause(d, types, single, cat, v, zh);
            case AggregationKind.DistinctCount:
                return DistinctClause(d, single, cat, v, zh);
            case AggregationKind.TimeSinceLast:
                return RecencyClause(single, cat, v, zh);
            case AggregationKind.Ratio:
                return RatioClause(d, cat, v, zh);
            default:
                return null;
        }
    }

    private static (string, string) CountClause(FeatureDefinition d, Act? single, (string En, string Zh)? cat, double v, bool zh)
    {
        var n = Count(v);
        var w = Window(d.Window, zh, stat: false);
        if (single is { Product: true } a)
        {
            return (zh
                ? $"您{w}{a.Zh}了{n}{a.ZhMeasure}{cat?.Zh}{a.ZhObject}"
                : Join($"you {a.En} {n} {Prefix(cat?.En)}{(n == "1" ? a.EnObject : a.EnObjects)}{a.EnTail}", w), n);
        }

        if (single is { } s)
        {
            return (zh
                ? (cat is { } c1 ? $"您{w}在{c1.Zh}品类{s.Zh}{n}次" : $"您{w}{s.Zh}{n}次")
                : Join($"you {s.En} {Times(n)}{(cat is { } c2 ? $" in the {c2.En} category" : "")}", w), n);
        }

        return (zh
            ? (cat is { } c3 ? $"您{w}与{c3.Zh}商品{(w == "累计" ? "" : "共")}有{n}次互动" : $"您{w}{(w == "累计" ? "" : "共")}有{n}次互动")
            : Join($"you had {n} {(n == "1" ? "interaction" : "interactions")}{(cat is { } c4 ? $" with {c4.En} products" : "")}", w), n);
    }

    private static (string, string)? FieldClause(FeatureDefinition d, EventType[] types, Act? single, (string En, string Zh)? cat, double v, bool zh)
    {
        var kind = d.Aggregation.Kind;
        var purchaseOrAll = types.Length == 0 || types.All(t => t == EventType.Purchase);
        var returns = types.Length > 0 && types.All(t => t == EventType.Return);
        switch (d.Aggregation.Field)
        {
            case FeatureField.Amount when kind == AggregationKind.Sum && purchaseOrAll:
                {
                    var m = Money(v);
                    var w = Window(d.Window, zh, stat: false);
                    return (zh
                        ? $"您{w}{(cat is { } c ? $"在{c.Zh}商品上" : "")}消费了{m}"
                        : Join($"you spent {m}{(cat is { } c2 ? $" on {c2.En} products" : "")}", w), m);
                }

            case FeatureField.Amount when kind == AggregationKind.Sum && returns:
                {
                    var m = Money(v);
                    var w = Window(d.Window, zh, stat: false);
                    return (zh
                        ? $"您{w}退货{cat?.Zh}商品的金额为{m}"
                        : Join($"you returned {Prefix(cat?.En)}products worth {m}", w), m);
                }

            case FeatureField.Amount when kind != AggregationKind.Sum && purchaseOrAll:
                {
                    var m = Money(v);
                    var w = Window(d.Window, zh, stat: true);
                    var (en, cn) = kind switch
                    {
                        AggregationKind.Mean => ("average", "平均"),
                        AggregationKind.Max => ("largest", "最大"),
                        _ => ("smallest", "最小"),
                    };
                    return (zh
                        ? $"您{w}的{(cat is { } c ? c.Zh + "商品" : "")}{cn}单笔消费为{m}"
                        : $"your {en} {Prefix(cat?.En)}purchase{Space(w)} was {m}", m);
                }

            case FeatureField.Price when kind != AggregationKind.Sum:
                {
                    var m = Money(v);
                    var w = Window(d.Window, zh, stat: false);
                    var (en, cn) = kind switch
                    {
                        AggregationKind.Mean => ("average", "平均"),
                        AggregationKind.Max => ("highest", "最高"),
                        _ => ("lowest", "最低"),
                    };
                    var verbEn = single is { Product: true } a ? a.En + a.EnTail : "interacted with";
                    var verbZh = single is { Product: true } b ? b.Zh : "接触";
                    return (zh
                        ? $"您{w}{verbZh}的{cat?.Zh}商品{cn}价格为{m}"
                        : $"the {en} price of the {Prefix(cat?.En)}products you {verbEn}{Space(w)} was {m}", m);
                }

            case FeatureField.Quantity when kind == AggregationKind.Sum && types.Length > 0 && types.All(t => t == EventType.Purchase):
                {
                    var n = Count(v);
                    var w = Window(d.Window, zh, stat: false);
                    return (zh
                        ? $"您{w}共购买了{n}件{cat?.Zh}商品"
                        : Join($"you bought {n} {(n == "1" ? "unit" : "units")}{(cat is { } c ? $" of {c.En} products" : "")}", w), n);
                }

            default:
                return null;
        }
    }

    private static (string, string)? DistinctClause(FeatureDefinition d, Act? single, (string En, string Zh)? cat, double v, bool zh)
    {
        var n = Count(v);
        var w = Window(d.Window, zh, stat: false);
        var one = n == "1";
        switch (d.Aggregation.Field)
        {
            case FeatureField.Sku:
                {
                    var verbEn = single is { Product: true } a ? a.En : "interacted with";
                    var tail = single is { Product: true } b ? b.EnTail : "";
                    var verbZh = single is { Product: true } c ? c.Zh : "接触";
                    return (zh
                        ? $"您{w}{verbZh}了{n}款不同的{cat?.Zh}商品"
                        : Join($"you {verbEn} {n} different {Prefix(cat?.En)}{(one ? "product" : "products")}{tail}", w), n);
                }

            case FeatureField.Day:
                return (zh
                    ? (cat is { } c1 ? $"您{w}有{n}天在{c1.Zh}品类有活跃行为" : $"您{w}有{n}天有活跃行为")
                    : Join($"you were active{(cat is { } c2 ? $" in the {c2.En} category" : "")} on {n} {(one ? "day" : "days")}", w), n);
            case FeatureField.Channel:
                return (zh ? $"您{w}使用了{n}个不同渠道" : Join($"you used {n} different {(one ? "channel" : "channels")}", w), n);
            case FeatureField.Category or FeatureField.CategoryTop:
                return (zh
                    ? $"您{w}涉及{n}个不同品类"
                    : Join($"you engaged with {n} different {(one ? "category" : "categories")}", w), n);
            case FeatureField.Store:
                return (zh ? $"您{w}到访了{n}家不同门店" : Join($"you visited {n} different {(one ? "store" : "stores")}", w), n);
            case FeatureField.Hour:
                return (zh
                    ? $"您{w}在{n}个不同时段有活跃行为"
                    : Join($"you were active during {n} different {(one ? "hour" : "hours")} of the day", w), n);
            case FeatureField.Type:
                return (zh
                    ? $"您{w}有{n}种不同类型的行为"
                    : Join($"you took {n} different kinds of {(one ? "action" : "actions")}", w), n);
            default:
                return null;
        }
    }

    private static (string, string) RecencyClause(Act? single, (string En, string Zh)? cat, double v, bool zh)
    {
        var days = Days(v);
        var ago = zh ? $"{days}天前" : $"{days} {(days == "1" ? "day" : "days")} ago";
        if (single is { } a)
        {
            if (zh)
            {
                return (cat is { } c
                    ? (a.Product ? $"您上次{a.Zh}{c.Zh}商品是在{ago}" : $"您上次在{c.Zh}品类{a.Zh}是在{ago}")
                    : $"您上次{a.Zh}是在{ago}", days);
            }

            return ($"your last {a.EnNoun}{(cat is { } c2 ? (a.Product ? $" of {c2.En} products" : $" in the {c2.En} category") : "")} was {ago}", days);
        }

        return (zh
            ? (cat is { } c3 ? $"您上次在{c3.Zh}品类活跃是在{ago}" : $"您上次活跃是在{ago}")
            : $"your last activity{(cat is { } c4 ? $" in the {c4.En} category" : "")} was {ago}", days);
    }

    private static (string, string)? RatioClause(FeatureDefinition d, (string En, string Zh)? cat, double v, bool zh)
    {
        var agg = d.Aggregation;
        if (agg.Numerator is not { Kind: AggregationKind.Count } num || agg.Denominator is not { Kind: AggregationKind.Count } den)
        {
            return null;
        }

        var numTypes = (num.EventTypes.Count > 0 ? num.EventTypes : d.EventTypes).Distinct().ToArray();
        var denTypes = (den.EventTypes.Count > 0 ? den.EventTypes : d.EventTypes).Distinct().ToArray();
        if (numTypes.Length != 1 || denTypes.Length != 1 || Acts.Get(numTypes[0]) is not { } a || Acts.Get(denTypes[0]) is not { } b)
        {
            return null;
        }

        var pct = Percent(v);
        var w = Window(d.Window, zh, stat: true);
        if (numTypes[0] == EventType.Purchase && denTypes[0] == EventType.View)
        {
            return (zh
                ? $"您{w}的{cat?.Zh}浏览购买转化率为{pct}"
                : Join($"{pct} of your {Prefix(cat?.En)}product views", w) + " led to a purchase", pct);
        }

        return (zh
            ? $"您{w}的{cat?.Zh}{a.Zh}与{b.Zh}之比为{pct}"
            : $"your {Prefix(cat?.En)}{a.EnNoun}-to-{b.EnNoun} ratio{Space(w)} was {pct}", pct);
    }

    /// <summary>
    /// The words for a definition's category: InterestTags' known segment names (<c>baby</c>/<c>母婴</c>) for a
    /// one-level prefix, else the prefix's last level as written; null without a category.
    /// </summary>
    private static (string En, string Zh)? CategoryWords(string? prefix)
    {
        if (string.IsNullOrWhiteSpace(prefix))
        {
            return null;
        }

        var levels = prefix.Split('>', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (levels.Length == 0)
        {
            return null;
        }

        if (levels.Length == 1 && FeatureGrouping.CategoryName(levels[0]) is { } known)
        {
            return known;
        }

        var last = Clean(levels[^1]);
        return (last, last);
    }

    /// <summary>The window as a phrase: "in the last 2 hours"/"在过去2小时内"; lifetime "in total"/"累计" (for a statistic "overall"/"历史上"); session "in your latest session"/"在最近一次会话中".</summary>
    private static string Window(WindowSpec window, bool zh, bool stat)
    {
        switch (window.Kind)
        {
            case WindowKind.Lifetime:
                return zh ? (stat ? "历史上" : "累计") : (stat ? "overall" : "in total");
            case WindowKind.Session:
                return zh ? "在最近一次会话中" : "in your latest session";
            default:
                if (window.Size <= TimeSpan.Zero)
                {
                    return "";
                }

                var (n, en, cn) = Span(window.Size);
                return zh ? $"在过去{n}{cn}内" : n == "1" ? $"in the last {en}" : $"in the last {n} {en}s";
        }
    }

    /// <summary>A duration in its largest exact unit, read from <see cref="Durations.Format"/>: ("2", "hour", "小时").</summary>
    private static (string Number, string En, string Zh) Span(TimeSpan size)
    {
        var text = Durations.Format(size);
        var unitStart = text.Length;
        while (unitStart > 0 && char.IsAsciiLetter(text[unitStart - 1]))
        {
            unitStart--;
        }

        var (en, zh) = text[unitStart..] switch
        {
            "d" => ("day", "天"),
            "h" => ("hour", "小时"),
            "m" => ("minute", "分钟"),
            "s" => ("second", "秒"),
            _ => ("millisecond", "毫秒"),
        };
        return (text[..unitStart], en, zh);
    }

    private static string Join(string clause, string window) => window.Length == 0 ? clause : clause + " " + window;

    private static string Space(string window) => window.Length == 0 ? "" : " " + window;

    private static string Prefix(string? word) => string.IsNullOrEmpty(word) ? "" : word + " ";

    private static string Times(string n) => n == "1" ? "once" : $"{n} times";

    private static string Count(double v) => Normal(Math.Round(v, MidpointRounding.AwayFromZero)).ToString("0", Inv);

    private static string Money(double v) => Normal(v).ToString("0.00", Inv);

    private static string Days(double v) => Normal(Math.Round(v, 1, MidpointRounding.AwayFromZero)).ToString("0.#", Inv);

    private static string Percent(double v) => Normal(Math.Round(v * 100, 1, MidpointRounding.AwayFromZero)).ToString("0.#", Inv) + "%";

    private static string Plain(double v) => Normal(v).ToString("0.##", Inv);

    /// <summary>Avoids "-0" and "-0.00" for values that round to zero.</summary>
    private static double Normal(double v) => Math.Abs(v) < 0.005 ? 0 : v;

    /// <summary>Free text put into a sentence, without braces (so no reason looks like an unfilled template).</summary>
    private static string Clean(string text) => text.Replace('{', '(').Replace('}', ')');

    /// <summary>How a sentence names an event type.</summary>
    /// <param name="En">English past tense with its object for non-product types ("viewed", "visited a store").</param>
    /// <param name="EnTail">English words after the object ("" or " to cart").</param>
    /// <param name="EnObject">The English object, singular ("product", "video").</param>
    /// <param name="EnObjects">The English object, plural.</param>
    /// <param name="EnNoun">The English noun for one such event ("purchase", "product view").</param>
    /// <param name="Zh">The Chinese verb ("浏览", "加购").</param>
    /// <param name="ZhMeasure">The Chinese measure word for the object ("件", "个").</param>
    /// <param name="ZhObject">The Chinese object ("商品", "视频").</param>
    /// <param name="Product">Whether the events are counted as products (else as times).</param>
    private sealed record Act(string En, string EnTail, string EnObject, string EnObjects, string EnNoun, string Zh, string ZhMeasure, string ZhObject, bool Product);

    private static class Acts
    {
        private static readonly Dictionary<EventType, Act> All = new()
        {
            [EventType.View] = new("viewed", "", "product", "products", "product view", "浏览", "件", "商品", true),
            [EventType.Purchase] = new("bought", "", "product", "products", "purchase", "购买", "件", "商品", true),
            [EventType.AddToCart] = new("added", " to cart", "product", "products", "add-to-cart", "加购", "件", "商品", true),
            [EventType.RemoveFromCart] = new("removed", " from cart", "product", "products", "cart removal", "移出购物车", "件", "商品", true),
            [EventType.Return] = new("returned", "", "product", "products", "return", "退货", "件", "商品", true),
            [EventType.Review] = new("reviewed", "", "product", "products", "review", "评价", "件", "商品", true),
            [EventType.Like] = new("liked", "", "product", "products", "like", "点赞", "件", "商品", true),
            [EventType.VideoWatch] = new("watched", "", "video", "videos", "video watch", "观看", "个", "视频", true),
            [EventType.Search] = new("searched", "", "", "", "search", "搜索", "", "", false),
            [EventType.Visit] = new("visited a store", "", "", "", "store visit", "到店", "", "", false),
            [EventType.LoyaltyScan] = new("scanned a loyalty card", "", "", "", "loyalty card scan", "扫描会员卡", "", "", false),
            [EventType.AppOpen] = new("opened the app", "", "", "", "app open", "打开App", "", "", false),
            [EventType.CouponRedeem] = new("redeemed a coupon", "", "", "", "coupon redemption", "使用优惠券", "", "", false),
        };

        public static Act? Get(EventType type) => All.GetValueOrDefault(type);
    }
}
