using EdgeProfile.Core.Events;

namespace EdgeProfile.Core.Features;

/// <summary>
/// One feature, as data: what it aggregates (<see cref="Aggregation"/>) over which events (<see cref="EventTypes"/>,
/// <see cref="CategoryPrefix"/>) in which event-time window (<see cref="Window"/>). Values are keyed by customer.
/// A changed definition is a new <see cref="Version"/>; values always say which version produced them.
/// </summary>
public sealed record FeatureDefinition
{
    /// <summary>Lower-case snake_case name, e.g. <c>spend_30d</c>.</summary>
    public required string Name { get; init; }

    /// <summary>Version, from 1; <see cref="Id"/> spells it <c>name@v2</c>.</summary>
    public int Version { get; set; } = 1;

    /// <summary>The entity the value is keyed by; only <c>customer</c> today.</summary>
    public string Entity { get; set; } = "customer";

    /// <summary>Event types that feed the feature; empty means every type.</summary>
    public IReadOnlyList<EventType> EventTypes { get; set; } = [];

    /// <summary>Only events whose category path starts with this (case-insensitive, level by level); null for all.</summary>
    public string? CategoryPrefix { get; init; }

    /// <summary>The event-time window.</summary>
    public required WindowSpec Window { get; init; }

    /// <summary>What is computed over the window's events.</summary>
    public required AggregationSpec Aggregation { get; init; }

    /// <summary>How long after the last contributing event a value stays fresh; null: never stale.</summary>
    public TimeSpan? Ttl { get; init; }

    /// <summary>What the value means, for people.</summary>
    public string Description { get; set; } = "";

    /// <summary>Who answers for the definition (a team or a person).</summary>
    public string Owner { get; set; } = "";

    /// <summary><c>name@vN</c>.</summary>
    public string Id => $"{Name}@v{Version}";

    /// <summary>Whether its values are numbers, so it can feed a model: everything but top-k rankings and last values
    /// of text fields (SKU, category, channel).</summary>
    public bool IsNumeric() => Aggregation.Kind switch
    {
        AggregationKind.TopK => false,
        AggregationKind.LastValue => Aggregator.IsNumeric(Aggregation.Field),
        _ => true,
    };

    /// <summary>Whether an event of this type and category feeds the feature (before window assignment).</summary>
    public bool Accepts(EventType type, string? category) =>
        (EventTypes.Count == 0 || EventTypes.Contains(type)) && CategoryMatcher.Matches(CategoryPrefix, category);
}

/// <summary>Window kinds.</summary>
public enum WindowKind
{
    /// <summary>Fixed, non-overlapping windows <c>[k·size, (k+1)·size)</c> aligned to the Unix epoch (UTC).</summary>
    Tumbling,

    /// <summary>Overlapping windows <c>[k·hop, k·hop + size)</c>; <c>size</c> is a multiple of <c>hop</c>.</summary>
    Sliding,

    /// <summary>Per-customer bursts of activity separated by at least <c>gap</c> of silence.</summary>
    Session,

    /// <summary>One window over all time.</summary>
    Lifetime,
}

/// <summary>An event-time window. <see cref="Size"/> for tumbling and sliding, <see cref="Hop"/> for sliding, <see cref="Gap"/> for session.</summary>
public sealed record WindowSpec(WindowKind Kind, TimeSpan Size = default, TimeSpan Hop = default, TimeSpan Gap = default)
{
    /// <summary>A tumbling window of <paramref name="size"/>.</summary>
    public static WindowSpec Tumbling(TimeSpan size) => new(WindowKind.Tumbling, size, size);

    /// <summary>A sliding window of <paramref name="size"/> moving by <paramref name="hop"/>.</summary>
    public static WindowSpec Sliding(TimeSpan size, TimeSpan hop) => new(WindowKind.Sliding, size, hop);

    /// <summary>A session window closed by <paramref name="gap"/> of inactivity.</summary>
    public static WindowSpec Session(TimeSpan gap) => new(WindowKind.Session, Gap: gap);

    /// <summary>All time.</summary>
    public static WindowSpec Lifetime { get; } = new(WindowKind.Lifetime);

    /// <summary>Short text, e.g. <c>sliding 30d/1d</c>.</summary>
    public override string ToString() => Kind switch
    {
        WindowKind.Tumbling => $"tumbling {Durations.Format(Size)}",
        WindowKind.Sliding => $"sliding {Durations.Format(Size)}/{Durations.Format(Hop)}",
        WindowKind.Session => $"session gap {Durations.Format(Gap)}",
        _ => "lifetime",
    };
}

/// <summary>Aggregation kinds.</summary>
public enum AggregationKind
{
    /// <summary>Number of events.</summary>
    Count,

    /// <summary>Sum of a numeric field.</summary>
    Sum,

    /// <summary>Mean of a numeric field (over events that have it).</summary>
    Mean,

    /// <summary>Smallest value of a numeric field.</summary>
    Min,

    /// <summary>Largest value of a numeric field.</summary>
    Max,

    /// <summary>Number of distinct values of a field.</summary>
    DistinctCount,

    /// <summary>The field's value on the latest event (event time; ties broken by event id).</summary>
    LastValue,

    /// <summary>Time from the latest event to the moment the value is read, in days.</summary>
    TimeSinceLast,

    /// <summary>The <c>k</c> values of a field with the largest total weight, with their shares.</summary>
    TopK,

    /// <summary><see cref="AggregationSpec.Numerator"/> divided by <see cref="AggregationSpec.Denominator"/> (null when the latter is 0).</summary>
    Ratio,
}

/// <summary>The event fields an aggregation can read.</summary>
public enum FeatureField
{
    /// <summary>No field (count, time since last).</summary>
    None,

    /// <summary>Money: <c>amount</c>, else price × quantity.</summary>
    Amount,

    /// <summary>Units.</summary>
    Quantity,

    /// <summary>Unit price of the product.</summary>
    Price,

    /// <summary>Product SKU.</summary>
    Sku,

    /// <summary>Full category path.</summary>
    Category,

    /// <summary>Top level of the category path (e.g. <c>Baby</c>).</summary>
    CategoryTop,

    /// <summary>Channel name.</summary>
    Channel,

    /// <summary>Event type name.</summary>
    Type,

    /// <summary>UTC day number of the event (distinct count = active days).</summary>
    Day,

    /// <summary>UTC hour of day 0–23.</summary>
    Hour,

    /// <summary>Store id.</summary>
    Store,
}

/// <summary>
/// What to compute. <see cref="Field"/> is the input; <see cref="K"/> and <see cref="Weights"/> are for top-k
/// (weights by event type name, default 1); <see cref="Numerator"/>/<see cref="Denominator"/> for ratio, each with
/// its own <see cref="EventTypes"/> filter applied within the definition's events.
/// </summary>
public sealed record AggregationSpec
{
    /// <summary>The aggregation.</summary>
    public required AggregationKind Kind { get; init; }

    /// <summary>The field read.</summary>
    public FeatureField Field { get; set; } = FeatureField.None;

    /// <summary>For top-k: how many values.</summary>
    public int K { get; set; } = 3;

    /// <summary>For top-k: weight per event type (wire name, e.g. <c>purchase</c>); missing types weigh 1.</summary>
    public IReadOnlyDictionary<string, double>? Weights { get; init; }

    /// <summary>For a ratio part: the event types it counts (empty: the definition's).</summary>
    public IReadOnlyList<EventType> EventTypes { get; set; } = [];

    /// <summary>For ratio: the numerator.</summary>
    public AggregationSpec? Numerator { get; init; }

    /// <summary>For ratio: the denominator.</summary>
    public AggregationSpec? Denominator { get; init; }

    /// <summary>Weight of an event type for top-k.</summary>
    public double WeightOf(EventType type) =>
        Weights is not null && Weights.TryGetValue(type.Name(), out var w) ? w : 1.0;
}
