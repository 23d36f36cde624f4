using EdgeProfile.Core.Events;

namespace EdgeProfile.Core.Features;

/// <summary>
/// The built-in feature set an edge serves until its hub publishes one: activity, spend, conversion and category
/// affinity over 1, 7 and 30 days, lifetime recency and a session view.
/// </summary>
public static class DefaultFeatures
{
    /// <summary>Top-k weights by event type for category affinity: intent counts more than browsing.</summary>
    public static IReadOnlyDictionary<string, double> AffinityWeights { get; } = new Dictionary<string, double>(StringComparer.Ordinal)
    {
        ["view"] = 1,
        ["search"] = 1,
        ["like"] = 2,
        ["review"] = 2,
        ["video_watch"] = 2,
        ["add_to_cart"] = 3,
        ["purchase"] = 5,
        ["remove_from_cart"] = 0,
        ["return"] = 0,
    };

    /// <summary>The default set (revision 0).</summary>
    public static FeatureSet Set { get; } = Build();

    private static FeatureSet Build()
    {
        var defs = new List<FeatureDefinition>();
        foreach (var (label, size, hop, ttl) in new[]
                 {
                     ("1d", TimeSpan.FromDays(1), TimeSpan.FromHours(1), TimeSpan.FromDays(1)),
                     ("7d", TimeSpan.FromDays(7), TimeSpan.FromHours(6), TimeSpan.FromDays(7)),
                     ("30d", TimeSpan.FromDays(30), TimeSpan.FromDays(1), TimeSpan.FromDays(30)),
                 })
        {
            var window = WindowSpec.Sliding(size, hop);
            FeatureDefinition Def(string name, string description, AggregationSpec agg, params EventType[] types) => new()
            {
                Name = $"{name}_{label}",
                Window = window,
                Aggregation = agg,
                EventTypes = types,
                Ttl = ttl,
                Description = $"{description} in the last {label}",
                Owner = "edgeprofile",
            };

            defs.Add(Def("events", "Events of any type", Agg(AggregationKind.Count)));
            defs.Add(Def("active_days", "Days with any activity (UTC days)", Agg(AggregationKind.DistinctCount, FeatureField.Day)));
            defs.Add(Def("purchases", "Purchases", Agg(AggregationKind.Count), EventType.Purchase));
            defs.Add(Def("spend", "Money spent on purchases", Agg(AggregationKind.Sum, FeatureField.Amount), EventType.Purchase));
            defs.Add(Def("avg_basket", "Mean purchase amount", Agg(AggregationKind.Mean, FeatureField.Amount), EventType.Purchase));
            defs.Add(Def("max_purchase", "Largest purchase amount", Agg(AggregationKind.Max, FeatureField.Amount), EventType.Purchase));
            defs.Add(Def("views", "Product views", Agg(AggregationKind.Count), EventType.View));
            defs.Add(Def("cart_adds", "Add-to-cart events", Agg(AggregationKind.Count), EventType.AddToCart));
            defs.Add(Def("returns", "Returns", Agg(AggregationKind.Count), EventType.Return));
            defs.Add(Def("distinct_skus", "Distinct products seen or bought", Agg(AggregationKind.DistinctCount, FeatureField.Sku)));
            defs.Add(Def("conversion", "Purchases per product view", new AggregationSpec
            {
                Kind = AggregationKind.Ratio,
                Numerator = new AggregationSpec { Kind = AggregationKind.Count, EventTypes = [EventType.Purchase] },
                Denominator = new AggregationSpec { Kind = AggregationKind.Count, EventTypes = [EventType.View] },
            }, EventType.Purchase, EventType.View));
            defs.Add(Def("category_affinity", "Leading top-level categories by weighted interest (purchase 5, cart 3, like/review/video 2, view/search 1)", new AggregationSpec
            {
                Kind = AggregationKind.TopK,
                Field = FeatureField.CategoryTop,
                K = 5,
                Weights = AffinityWeights,
            }));
        }

        FeatureDefinition Life(string name, string description, AggregationSpec agg, params EventType[] types) => new()
        {
            Name = name,
            Window = WindowSpec.Lifetime,
            Aggregation = agg,
            EventTypes = types,
            Description = description,
            Owner = "edgeprofile",
        };

        defs.Add(Life("events_total", "Events of any type, all time", Agg(AggregationKind.Count)));
        defs.Add(Life("days_since_last_event", "Days since the customer's latest event", Agg(AggregationKind.TimeSinceLast)));
        defs.Add(Life("days_since_last_purchase", "Days since the latest purchase", Agg(AggregationKind.TimeSinceLast), EventType.Purchase));
        defs.Add(Life("lifetime_spend", "Money spent on purchases, all time", Agg(AggregationKind.Sum, FeatureField.Amount), EventType.Purchase));
        defs.Add(Life("lifetime_purchases", "Purchases, all time", Agg(AggregationKind.Count), EventType.Purchase));
        defs.Add(Life("distinct_channels", "Distinct channels the customer used", Agg(AggregationKind.DistinctCount, FeatureField.Channel)));
        defs.Add(Life("last_category", "Category of the latest event that had one", Agg(AggregationKind.LastValue, FeatureField.Category)));
        defs.Add(Life("last_channel", "Channel of the latest event", Agg(AggregationKind.LastValue, FeatureField.Channel)));
        defs.Add(Life("preferred_hours", "Hours of day (UTC) with the most activity", Agg(AggregationKind.TopK, FeatureField.Hour) with { K = 3 }));

        var session = WindowSpec.Session(TimeSpan.FromMinutes(30));
        defs.Add(new FeatureDefinition
        {
            Name = "session_events",
            Window = session,
            Aggregation = Agg(AggregationKind.Count),
            Ttl = TimeSpan.FromMinutes(30),
            Description = "Events in the latest session (30 minutes of silence ends a session)",
            Owner = "edgeprofile",
        });
        defs.Add(new FeatureDefinition
        {
            Name = "session_categories",
            Window = session,
            Aggregation = Agg(AggregationKind.DistinctCount, FeatureField.CategoryTop),
            Ttl = TimeSpan.FromMinutes(30),
            Description = "Distinct top-level categories in the latest session",
            Owner = "edgeprofile",
        });

        var set = new FeatureSet { Revision = 0, Definitions = defs };
        set.Validate();
        return set;
    }

    private static AggregationSpec Agg(AggregationKind kind, FeatureField field = FeatureField.None) => new() { Kind = kind, Field = field };
}
