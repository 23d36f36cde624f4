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

    /// <summary>The reading of the category-affinity feature (see <see cref="InterestTags.AffinityDefinition"/>), or null.</summary>
    public static FeatureReading? Affinity(FeatureSet set, IReadOnlyList<FeatureReading> readings)
    {
        ArgumentNullException.ThrowIfNull(readings);
        var definition = InterestTags.AffinityDefinition(set);
        return definition is null ? null : readings.FirstOrDefault(r => string.Equals(r.Definition.Id, definition.Id, StringComparison.Ordinal));
    }

    private static DateTimeOffset? Time(long? ms) => ms is { } v && v > DateTimeOffset.MinValue.ToUnixTimeMilliseconds() && v < DateTimeOffset.MaxValue.ToUnixTimeMilliseconds()
        ? DateTimeOffset.FromUnixTimeMilliseconds(v)
        : null;
}
