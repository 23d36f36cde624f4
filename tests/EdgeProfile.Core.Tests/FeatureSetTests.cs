using EdgeProfile.Core.Events;
using EdgeProfile.Core.Features;

namespace EdgeProfile.Core.Tests;

public sealed class FeatureSetTests
{
    [Fact]
    public void A_minimal_definition_gets_the_documented_defaults()
    {
        var d = FeatureSet.ParseDefinition("""{ "name": "visits", "window": { "kind": "lifetime" }, "aggregation": { "kind": "count" } }""");
        Assert.Equal(1, d.Version);
        Assert.Equal("customer", d.Entity);
        Assert.Empty(d.EventTypes);
        Assert.Equal(FeatureField.None, d.Aggregation.Field);
        Assert.Equal(3, d.Aggregation.K);
        Assert.Equal("visits@v1", d.Id);
    }

    [Fact]
    public void Definitions_round_trip_through_json_with_durations_and_snake_case()
    {
        var json = DefaultFeatures.Set.ToJson();
        Assert.Contains("\"size\": \"30d\"", json, StringComparison.Ordinal);
        Assert.Contains("\"add_to_cart\"", json, StringComparison.Ordinal);
        Assert.Contains("\"distinct_count\"", json, StringComparison.Ordinal);
        var back = FeatureSet.Parse(json);
        Assert.Equal(DefaultFeatures.Set.Definitions.Count, back.Definitions.Count);
        Assert.Equal(FeatureSet.ToJson(DefaultFeatures.Set.Definitions[5]), FeatureSet.ToJson(back.Definitions[5]));
        Assert.True(DefaultFeatures.Set.Definitions.Count >= 30);
        Assert.True(DefaultFeatures.Set.Definitions.Select(d => d.Window.Size).Where(s => s > TimeSpan.Zero).Distinct().Count() >= 3);
    }

    [Theory]
    [InlineData("""{ "definitions": [ { "name": "Bad Name", "window": { "kind": "lifetime" }, "aggregation": { "kind": "count" } } ] }""", "definitions[0].name")]
    [InlineData("""{ "definitions": [ { "name": "x", "window": { "kind": "sliding", "size": "7d", "hop": "5d" }, "aggregation": { "kind": "count" } } ] }""", "definitions[0].window.hop")]
    [InlineData("""{ "definitions": [ { "name": "x", "window": { "kind": "lifetime" }, "aggregation": { "kind": "sum", "field": "sku" } } ] }""", "definitions[0].aggregation.field")]
    [InlineData("""{ "definitions": [ { "name": "x", "window": { "kind": "lifetime" }, "aggregation": { "kind": "ratio" } } ] }""", "definitions[0].aggregation")]
    [InlineData("""{ "definitions": [ { "name": "x", "window": { "kind": "lifetime" }, "aggregation": { "kind": "top_k", "field": "category", "weights": { "buy": 2 } } } ] }""", "definitions[0].aggregation.weights")]
    [InlineData("""{ "definitions": [ { "name": "x", "window": { "kind": "tumbling", "size": "soon" }, "aggregation": { "kind": "count" } } ] }""", "definitions[0].window.size")]
    [InlineData("""{ "definitions": [ { "name": "x", "window": { "kind": "lifetime" }, "aggregation": { "kind": "count" } }, { "name": "x", "window": { "kind": "lifetime" }, "aggregation": { "kind": "count" } } ] }""", "definitions[1].name")]
    public void Invalid_definitions_are_refused_naming_the_key(string json, string key)
    {
        var ex = Assert.Throws<FeatureDefinitionException>(() => FeatureSet.Parse(json));
        Assert.Contains(key, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("30d", 30 * 24 * 60)]
    [InlineData("12h", 12 * 60)]
    [InlineData("15m", 15)]
    [InlineData("1.5h", 90)]
    public void Durations_parse_and_format(string text, int minutes)
    {
        Assert.Equal(TimeSpan.FromMinutes(minutes), Durations.Parse(text));
        Assert.Equal(TimeSpan.FromMinutes(minutes), Durations.Parse(Durations.Format(TimeSpan.FromMinutes(minutes))));
    }

    [Fact]
    public void Category_prefix_matches_whole_levels_case_insensitively()
    {
        var d = new FeatureDefinition
        {
            Name = "baby",
            Window = WindowSpec.Lifetime,
            Aggregation = new AggregationSpec { Kind = AggregationKind.Count },
            CategoryPrefix = "baby & toddler",
            EventTypes = [EventType.Purchase],
        };
        Assert.True(d.Accepts(EventType.Purchase, "Baby & Toddler > Strollers"));
        Assert.False(d.Accepts(EventType.View, "Baby & Toddler > Strollers"));
        Assert.False(d.Accepts(EventType.Purchase, "Baby & Toddlers > Strollers"));
        Assert.False(d.Accepts(EventType.Purchase, null));
    }
}
