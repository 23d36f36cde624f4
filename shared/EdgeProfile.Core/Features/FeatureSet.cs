using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using EdgeProfile.Core.Events;

namespace EdgeProfile.Core.Features;

/// <summary>
/// A versioned set of feature definitions, as the hub's registry publishes it and an edge applies it.
/// <see cref="Revision"/> grows with every change at the hub.
/// </summary>
public sealed partial record FeatureSet
{
    /// <summary>Registry revision; 0 for a set that never came from a hub (the built-in defaults).</summary>
    public long Revision { get; init; }

    /// <summary>The definitions: one version per name.</summary>
    public IReadOnlyList<FeatureDefinition> Definitions { get; set; } = [];

    /// <summary>The definition of <paramref name="name"/>, or null.</summary>
    public FeatureDefinition? Find(string name) => Definitions.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.Ordinal));

    /// <summary>Reads a set from JSON and validates it; errors name the offending key.</summary>
    public static FeatureSet Parse(string json)
    {
        FeatureSet? set;
        try
        {
            set = JsonSerializer.Deserialize(json, FeatureJson.Default.FeatureSet);
        }
        catch (JsonException ex)
        {
            throw new FeatureDefinitionException($"feature definitions are not valid JSON at {ex.Path ?? "$"}: {ex.Message}");
        }

        if (set is null)
        {
            throw new FeatureDefinitionException("feature definitions: the document is empty");
        }

        set.Validate();
        return set;
    }

    /// <summary>Reads one definition from JSON and validates it.</summary>
    public static FeatureDefinition ParseDefinition(string json)
    {
        FeatureDefinition? d;
        try
        {
            d = JsonSerializer.Deserialize(json, FeatureJson.Default.FeatureDefinition);
        }
        catch (JsonException ex)
        {
            throw new FeatureDefinitionException($"feature definition is not valid JSON at {ex.Path ?? "$"}: {ex.Message}");
        }

        if (d is null)
        {
            throw new FeatureDefinitionException("feature definition: the document is empty");
        }

        var errors = new List<string>();
        ValidateDefinition(d, "", errors);
        if (errors.Count > 0)
        {
            throw new FeatureDefinitionException(string.Join("; ", errors));
        }

        return d;
    }

    /// <summary>The set as indented JSON.</summary>
    public string ToJson() => JsonSerializer.Serialize(this, FeatureJson.Default.FeatureSet);

    /// <summary>One definition as JSON.</summary>
    public static string ToJson(FeatureDefinition definition) => JsonSerializer.Serialize(definition, FeatureJson.Default.FeatureDefinition);

    /// <summary>Throws <see cref="FeatureDefinitionException"/> listing every problem, each naming its key.</summary>
    public void Validate()
    {
        var errors = new List<string>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Definitions.Count; i++)
        {
            var d = Definitions[i];
            var at = $"definitions[{i}]";
            if (d is null)
            {
                errors.Add($"{at}: is null");
                continue;
            }

            ValidateDefinition(d, at + ".", errors);
            if (d.Name is not null && !names.Add(d.Name))
            {
                errors.Add($"{at}.name: '{d.Name}' is defined twice");
            }
        }

        if (errors.Count > 0)
        {
            throw new FeatureDefinitionException(string.Join("; ", errors));
        }
    }

    private static void ValidateDefinition(FeatureDefinition d, string at, List<string> errors)
    {
        if (d.Name is null || !NamePattern().IsMatch(d.Name))
        {
            errors.Add($"{at}name: '{d.Name}' must be 1-64 lower-case letters, digits or '_', starting with a letter");
        }

        if (d.Version < 1)
        {
            errors.Add($"{at}version: must be 1 or more (got {d.Version})");
        }

        if (!string.Equals(d.Entity, "customer", StringComparison.Ordinal))
        {
            errors.Add($"{at}entity: only 'customer' is supported (got '{d.Entity}')");
        }

        if (d.Ttl is { } ttl && ttl <= TimeSpan.Zero)
        {
            errors.Add($"{at}ttl: must be positive");
        }

        if (d.Window is null)
        {
            errors.Add($"{at}window: is required");
        }
        else
        {
            var w = d.Window;
            switch (w.Kind)
            {
                case WindowKind.Tumbling when w.Size < TimeSpan.FromSeconds(1):
                    errors.Add($"{at}window.size: a tumbling window needs a size of at least 1s");
                    break;
                case WindowKind.Sliding when w.Size < TimeSpan.FromSeconds(1) || w.Hop < TimeSpan.FromSeconds(1):
                    errors.Add($"{at}window: a sliding window needs size and hop of at least 1s");
                    break;
                case WindowKind.Sliding when w.Size.Ticks % w.Hop.Ticks != 0 || w.Hop > w.Size:
                    errors.Add($"{at}window.hop: {Durations.Format(w.Hop)} must divide the size {Durations.Format(w.Size)}");
                    break;
                case WindowKind.Sliding when w.Size.Ticks / w.Hop.Ticks > 1000:
                    errors.Add($"{at}window.hop: at most 1000 hops per window (size/hop = {w.Size.Ticks / w.Hop.Ticks})");
                    break;
                case WindowKind.Session when w.Gap < TimeSpan.FromSeconds(1):
                    errors.Add($"{at}window.gap: a session window needs a gap of at least 1s");
                    break;
            }
        }

        if (d.Aggregation is null)
        {
            errors.Add($"{at}aggregation: is required");
        }
        else
        {
            ValidateAggregation(d.Aggregation, at + "aggregation", errors, allowRatio: true);
        }
    }

    private static void ValidateAggregation(AggregationSpec a, string at, List<string> errors, bool allowRatio)
    {
        var numeric = a.Field is FeatureField.Amount or FeatureField.Quantity or FeatureField.Price or FeatureField.Hour or FeatureField.Day;
        switch (a.Kind)
        {
            case AggregationKind.Sum or AggregationKind.Mean or AggregationKind.Min or AggregationKind.Max when !numeric:
                errors.Add($"{at}.field: {Snake(a.Kind.ToString())} needs a numeric field (amount, quantity, price, hour, day), got '{Snake(a.Field.ToString())}'");
                break;
            case AggregationKind.DistinctCount or AggregationKind.LastValue or AggregationKind.TopK when a.Field == FeatureField.None:
                errors.Add($"{at}.field: {Snake(a.Kind.ToString())} needs a field");
                break;
            case AggregationKind.TopK when a.K is < 1 or > 50:
                errors.Add($"{at}.k: must be 1-50 (got {a.K})");
                break;
            case AggregationKind.Ratio when !allowRatio:
                errors.Add($"{at}: a ratio part cannot itself be a ratio");
                break;
            case AggregationKind.Ratio when a.Numerator is null || a.Denominator is null:
                errors.Add($"{at}: a ratio needs numerator and denominator");
                break;
            case AggregationKind.Ratio:
                ValidateAggregation(a.Numerator!, at + ".numerator", errors, allowRatio: false);
                ValidateAggregation(a.Denominator!, at + ".denominator", errors, allowRatio: false);
                if (a.Numerator!.Kind is AggregationKind.TopK or AggregationKind.LastValue || a.Denominator!.Kind is AggregationKind.TopK or AggregationKind.LastValue)
                {
                    errors.Add($"{at}: ratio parts must be numeric aggregations");
                }

                break;
        }

        if (a.Weights is not null)
        {
            foreach (var (type, w) in a.Weights)
            {
                if (!WireNames.TryParseType(type, out _))
                {
                    errors.Add($"{at}.weights: '{type}' is not an event type ({WireNames.TypeList})");
                }
                else if (double.IsNaN(w) || w < 0)
                {
                    errors.Add($"{at}.weights.{type}: must be 0 or more");
                }
            }
        }
    }

    private static string Snake(string pascal) => JsonNamingPolicy.SnakeCaseLower.ConvertName(pascal);

    [GeneratedRegex("^[a-z][a-z0-9_]{0,63}$")]
    private static partial Regex NamePattern();
}

/// <summary>A feature definition or set that cannot be used; the message names the key.</summary>
public sealed class FeatureDefinitionException(string message) : Exception(message);

/// <summary>JSON of feature definitions: camelCase keys, snake_case enum values, durations like <c>30d</c>.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase,
    WriteIndented = true,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    AllowTrailingCommas = true,
    ReadCommentHandling = JsonCommentHandling.Skip,
    Converters = [typeof(DurationJsonConverter), typeof(SnakeEnum<EventType>), typeof(SnakeEnum<WindowKind>), typeof(SnakeEnum<AggregationKind>), typeof(SnakeEnum<FeatureField>)])]
[JsonSerializable(typeof(FeatureSet))]
[JsonSerializable(typeof(FeatureDefinition))]
[JsonSerializable(typeof(FeatureValue))]
public sealed partial class FeatureJson : JsonSerializerContext;

/// <summary>Enum values in snake_case (<c>add_to_cart</c>, <c>distinct_count</c>).</summary>
public sealed class SnakeEnum<T>() : JsonStringEnumConverter<T>(JsonNamingPolicy.SnakeCaseLower, allowIntegerValues: false)
    where T : struct, Enum;

/// <summary>A <see cref="TimeSpan"/> as <c>30d</c>, <c>1h</c> (see <see cref="Durations"/>).</summary>
public sealed class DurationJsonConverter : JsonConverter<TimeSpan>
{
    /// <inheritdoc />
    public override TimeSpan Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        var text = reader.GetString();
        return Durations.TryParse(text, out var v) ? v : throw new JsonException($"'{text}' is not a duration (e.g. 30d, 12h, 15m, 30s)");
    }

    /// <inheritdoc />
    public override void Write(Utf8JsonWriter writer, TimeSpan value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(Durations.Format(value));
    }
}
