using System.Text.Json.Nodes;
using EdgeProfile.Core.Features;

namespace EdgeProfile.Hub.Features;

/// <summary>Content identity and field diffs of definitions, on their canonical JSON.</summary>
internal static class DefinitionJson
{
    /// <summary>
    /// The definition's content as one compact string. The version number does not count, nor the order of object
    /// keys or of event-type lists, so that a resubmitted definition is recognised as unchanged.
    /// </summary>
    public static string Canonical(FeatureDefinition definition)
    {
        ArgumentNullException.ThrowIfNull(definition);
        var node = JsonNode.Parse(FeatureSet.ToJson(definition with { Version = 1 }));
        return Normalize(node, null)?.ToJsonString() ?? "null";
    }

    /// <summary>What changed from <paramref name="olderJson"/> to <paramref name="newerJson"/>: one line per field, e.g. <c>window.size: 30d → 14d</c>.</summary>
    public static IReadOnlyList<string> Diff(string olderJson, string newerJson)
    {
        var older = Flatten(JsonNode.Parse(olderJson));
        var newer = Flatten(JsonNode.Parse(newerJson));
        var changes = new List<string>();
        foreach (var key in newer.Keys.Concat(older.Keys.Where(k => !newer.ContainsKey(k))))
        {
            if (key is "version" or "id")
            {
                continue;
            }

            var had = older.TryGetValue(key, out var before);
            var has = newer.TryGetValue(key, out var after);
            if (had && has && string.Equals(before, after, StringComparison.Ordinal))
            {
                continue;
            }

            changes.Add($"{key}: {(had ? before : "(none)")} → {(has ? after : "(none)")}");
        }

        return changes;
    }

    private static JsonNode? Normalize(JsonNode? node, string? key) => node switch
    {
        JsonObject o => new JsonObject(o.OrderBy(p => p.Key, StringComparer.Ordinal)
            .Select(p => KeyValuePair.Create(p.Key, Normalize(p.Value, p.Key)))),
        JsonArray a when key is "eventTypes" => new JsonArray(a.Select(x => x?.ToJsonString() ?? "null")
            .Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Select(s => JsonNode.Parse(s)).ToArray()),
        JsonArray a => new JsonArray(a.Select(x => Normalize(x, null)).ToArray()),
        _ => node?.DeepClone(),
    };

    private static Dictionary<string, string> Flatten(JsonNode? root)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        Walk(root, "", fields);
        return fields;
    }

    private static void Walk(JsonNode? node, string path, Dictionary<string, string> fields)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (name, value) in o)
                {
                    Walk(value, path.Length == 0 ? name : $"{path}.{name}", fields);
                }

                break;
            case JsonArray a when a.All(x => x is JsonValue or null):
                fields[path] = "[" + string.Join(", ", a.Select(Text)) + "]";
                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    Walk(a[i], $"{path}[{i}]", fields);
                }

                break;
            default:
                fields[path] = Text(node);
                break;
        }
    }

    private static string Text(JsonNode? value) =>
        value is JsonValue v && v.TryGetValue<string>(out var s) ? s : value?.ToJsonString() ?? "null";
}
