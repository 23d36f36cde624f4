using EdgeProfile.Core.Features;

namespace EdgeProfile.Edge.Api;

/// <summary>How feature readings look in the local API's JSON.</summary>
public static class FeatureViews
{
    /// <summary>One reading: value, status (fresh / stale / missing), definition version and lineage.</summary>
    public static object View(FeatureReading r, long asOfMs)
    {
        ArgumentNullException.ThrowIfNull(r);
        var d = r.Definition;
        var last = r.Lineage.LastEventMs;
        return new
        {
            name = d.Name,
            id = d.Id,
            version = d.Version,
            value = Value(r.Value),
            status = r.Status.ToString().ToLowerInvariant(),
            description = d.Description,
            window = d.Window.ToString(),
            ttl = d.Ttl is { } ttl ? Durations.Format(ttl) : null,
            updatedAt = last is { } l ? DateTimeOffset.FromUnixTimeMilliseconds(l) : (DateTimeOffset?)null,
            freshnessSeconds = last is { } t ? Math.Max(0, (asOfMs - t) / 1000.0) : (double?)null,
            lineage = new
            {
                definition = r.Lineage.DefinitionId,
                events = r.Lineage.Events,
                firstEventAt = Time(r.Lineage.FirstEventMs),
                lastEventAt = Time(r.Lineage.LastEventMs),
                lastEventId = r.Lineage.LastEventId,
                windowStart = Time(r.Lineage.WindowStartMs),
                windowEnd = Time(r.Lineage.WindowEndMs),
            },
        };
    }

    /// <summary>A value as plain JSON: a number, a text, or a ranking list.</summary>
    public static object? Value(FeatureValue v)
    {
        ArgumentNullException.ThrowIfNull(v);
        if (v.Number is { } n)
        {
            return n;
        }

        if (v.Text is { } t)
        {
            return t;
        }

        return v.Ranking is { } ranking
            ? ranking.Select(x => new { value = x.Value, weight = x.Weight, share = Math.Round(x.Share, 4) }).ToArray()
            : null;
    }

    /// <summary>The reading of the category-affinity feature: the first top-k over top-level categories, longest window first.</summary>
    public static FeatureReading? Affinity(IReadOnlyList<FeatureReading> readings)
    {
        ArgumentNullException.ThrowIfNull(readings);
        return readings
            .Where(r => r.Definition.Aggregation.Kind == AggregationKind.TopK && r.Definition.Aggregation.Field == FeatureField.CategoryTop
                        && r.Definition.Window.Kind is WindowKind.Sliding or WindowKind.Tumbling)
            .OrderByDescending(r => string.Equals(r.Definition.Name, "category_affinity_30d", StringComparison.Ordinal))
            .ThenByDescending(r => r.Definition.Window.Size)
            .FirstOrDefault();
    }

    private static DateTimeOffset? Time(long? ms) => ms is { } v && v > DateTimeOffset.MinValue.ToUnixTimeMilliseconds() && v < DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()
        ? DateTimeOffset.FromUnixTimeMilliseconds(v)
        : null;
}
