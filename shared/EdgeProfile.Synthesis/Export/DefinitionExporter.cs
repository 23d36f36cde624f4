using System.Globalization;
using System.Text;
using EdgeProfile.Core.Events;
using EdgeProfile.Core.Features;
using EdgeProfile.Synthesis.Dfs;

namespace EdgeProfile.Synthesis.Export;

/// <summary>
/// Turns synthesized features that an edge can compute on its event stream into <see cref="FeatureDefinition"/>s:
/// count, sum, mean, min, max and distinct count over purchase events in a window (sliding 30d/1d, 90d/1d or
/// lifetime), time since last, and ratios of two of those in one window. Each CSV row is one purchase event. Names are
/// snake_case (<c>syn_sum_amount_90d</c>), the owner is <c>synthesis</c>, and the description holds the DFS name and its MI.
/// </summary>
public static class DefinitionExporter
{
    /// <summary>Owner of exported definitions.</summary>
    public const string Owner = "synthesis";

    /// <summary>
    /// Exports <paramref name="features"/> (with their MI, nats); <paramref name="labelText"/> says what the MI was
    /// measured against, e.g. <c>repurchase within 90d after 2011-09-07 00:00:00</c>.
    /// </summary>
    public static DefinitionExport Export(IReadOnlyList<(SynthesizedFeature Feature, double MutualInformation)> features, string labelText)
    {
        ArgumentNullException.ThrowIfNull(features);
        ArgumentNullException.ThrowIfNull(labelText);
        var names = new HashSet<string>(StringComparer.Ordinal);
        var exported = new List<ExportedFeature>();
        var definitions = new List<FeatureDefinition>();
        foreach (var (f, mi) in features)
        {
            if (!TryMap(f, out var shape, out var reason))
            {
                exported.Add(new ExportedFeature(f.Name, null, reason));
                continue;
            }

            var name = Unique(shape.Name, names);
            var definition = new FeatureDefinition
            {
                Name = name,
                EventTypes = [EventType.Purchase],
                CategoryPrefix = shape.CategoryPrefix,
                Window = shape.Window,
                Aggregation = shape.Aggregation,
                Ttl = shape.Window.Kind == WindowKind.Lifetime ? null : shape.Window.Size,
                Description = string.Create(CultureInfo.InvariantCulture, $"Synthesized {f.Name}: {f.Explanation}. MI {mi:F4} nats with {labelText}."),
                Owner = Owner,
            };
            definitions.Add(definition);
            exported.Add(new ExportedFeature(f.Name, definition, null));
        }

        var set = new FeatureSet { Revision = 0, Definitions = definitions };
        set.Validate();
        return new DefinitionExport(set, exported);
    }

    /// <summary>Whether <paramref name="feature"/> has a stream equivalent; if not, <paramref name="reason"/> says why.</summary>
    public static bool IsExpressible(SynthesizedFeature feature, out string? reason) => TryMap(feature, out _, out reason);

    private static bool TryMap(SynthesizedFeature f, out Shape shape, out string? reason)
    {
        shape = default;
        reason = null;
        if (f.Kind == FeatureKind.Stacked)
        {
            reason = "depth-2 stacking over other customers' transactions has no stream equivalent";
            return false;
        }

        if (f.Kind == FeatureKind.Ratio)
        {
            if (f.Numerator is not { } num || f.Denominator is not { } den || num.Window != den.Window)
            {
                reason = "a ratio across two windows has no stream equivalent";
                return false;
            }

            if (!Part(num, out var a, out var na, out reason) || !Part(den, out var b, out var nb, out reason))
            {
                reason = "ratio part " + reason;
                return false;
            }

            var window = Window(num.Window);
            shape = new Shape(
                $"syn_{na}_per_{nb}_{WindowName(num.Window)}",
                window,
                new AggregationSpec { Kind = AggregationKind.Ratio, Numerator = a, Denominator = b },
                null);
            return true;
        }

        if (f.Kind == FeatureKind.Where)
        {
            if (f.Plan.WhereVariable is not (RowVariable.Category or RowVariable.CategoryTop) || f.WhereValue is null)
            {
                reason = $"a filter on {f.WhereVariable} has no stream equivalent (only category prefixes)";
                return false;
            }

            if (!Part(f, out var spec, out var n, out reason))
            {
                return false;
            }

            shape = new Shape($"syn_{n}_cat_{Slug(f.WhereValue)}", WindowSpec.Lifetime, spec, f.WhereValue);
            return true;
        }

        if (f.Primitive == Primitive.TimeSinceLast && f.Window is null)
        {
            shape = new Shape("syn_days_since_last", WindowSpec.Lifetime, new AggregationSpec { Kind = AggregationKind.TimeSinceLast }, null);
            return true;
        }

        if (!Part(f, out var agg, out var baseName, out reason))
        {
            return false;
        }

        shape = new Shape($"syn_{baseName}_{WindowName(f.Window)}", Window(f.Window), agg, null);
        return true;
    }

    private static bool Part(SynthesizedFeature f, out AggregationSpec spec, out string name, out string? reason)
    {
        spec = null!;
        name = "";
        reason = null;
        var kind = f.Primitive switch
        {
            Primitive.Count => AggregationKind.Count,
            Primitive.Sum => AggregationKind.Sum,
            Primitive.Mean => AggregationKind.Mean,
            Primitive.Min => AggregationKind.Min,
            Primitive.Max => AggregationKind.Max,
            Primitive.NUnique => AggregationKind.DistinctCount,
            _ => (AggregationKind?)null,
        };
        if (kind is null)
        {
            reason = $"{CandidateBuilder.Upper(f.Primitive)} has no stream aggregation";
            return false;
        }

        var (field, fieldName) = f.Plan.Input switch
        {
            RowVariable.None => (FeatureField.None, ""),
            RowVariable.Amount => (FeatureField.Amount, "amount"),
            RowVariable.Quantity => (FeatureField.Quantity, "quantity"),
            RowVariable.Hour when kind is AggregationKind.Mean or AggregationKind.Min or AggregationKind.Max => (FeatureField.Hour, "hour"),
            RowVariable.Product => (FeatureField.Sku, "sku"),
            RowVariable.Category => (FeatureField.Category, "category"),
            RowVariable.CategoryTop => (FeatureField.CategoryTop, "category_top"),
            RowVariable.Store => (FeatureField.Store, "store"),
            RowVariable.Channel => (FeatureField.Channel, "channel"),
            _ => ((FeatureField?)null, ""),
        };
        if (field is null)
        {
            reason = $"{f.Variable} is not a field of stream events";
            return false;
        }

        spec = new AggregationSpec { Kind = kind.Value, Field = field.Value };
        var word = kind == AggregationKind.DistinctCount ? "distinct" : kind.Value.ToString().ToLowerInvariant();
        name = fieldName.Length == 0 ? word : $"{word}_{fieldName}";
        return true;
    }

    private static WindowSpec Window(TimeSpan? window)
    {
        if (window is not { } w)
        {
            return WindowSpec.Lifetime;
        }

        var day = TimeSpan.FromDays(1);
        var hop = w.Ticks % day.Ticks == 0 && w.Ticks / day.Ticks <= 1000 ? day : w;
        return WindowSpec.Sliding(w, hop);
    }

    private static string WindowName(TimeSpan? window) => window is { } w ? Durations.Format(w) : "lifetime";

    private static string Slug(string value)
    {
        var sb = new StringBuilder();
        foreach (var c in value.ToLowerInvariant())
        {
            if (c is (>= 'a' and <= 'z') or (>= '0' and <= '9'))
            {
                sb.Append(c);
            }
            else if (sb.Length > 0 && sb[^1] != '_')
            {
                sb.Append('_');
            }
        }

        var s = sb.ToString().Trim('_');
        return s.Length == 0 ? "x" : s[..Math.Min(s.Length, 32)].TrimEnd('_');
    }

    private static string Unique(string name, HashSet<string> taken)
    {
        name = name.Length > 60 ? name[..60].TrimEnd('_') : name;
        var candidate = name;
        for (var i = 2; !taken.Add(candidate); i++)
        {
            candidate = $"{name}_{i}";
        }

        return candidate;
    }

    private readonly record struct Shape(string Name, WindowSpec Window, AggregationSpec Aggregation, string? CategoryPrefix);
}
