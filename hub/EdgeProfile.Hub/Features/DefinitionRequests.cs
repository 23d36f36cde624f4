using System.Text.Json;
using System.Text.Json.Nodes;
using EdgeProfile.Core.Features;

namespace EdgeProfile.Hub.Features;

/// <summary>
/// Reads request bodies of the registry's REST API into validated definitions, noting whether each named a version.
/// Every error is a <see cref="FeatureDefinitionException"/> whose message names the key.
/// </summary>
internal static class DefinitionRequests
{
    private static readonly JsonDocumentOptions Lenient = new() { AllowTrailingCommas = true, CommentHandling = JsonCommentHandling.Skip };

    /// <summary>The body of <c>PUT /api/features/{name}</c>: one definition; its <c>name</c> may be left out.</summary>
    public static SubmittedDefinition ParseOne(string body, string routeName)
    {
        var root = ParseObject(body, "the body must be one feature definition, a JSON object");
        if (root["name"] is null)
        {
            root["name"] = routeName;
        }
        else if (root["name"] is not JsonValue v || !v.TryGetValue<string>(out var name) || !string.Equals(name, routeName, StringComparison.Ordinal))
        {
            var given = root["name"] is JsonValue s && s.TryGetValue<string>(out var text) ? text : root["name"]?.ToJsonString();
            throw new FeatureDefinitionException($"name: '{given}' differs from the name in the URL ('{routeName}')");
        }

        return new SubmittedDefinition(FeatureSet.ParseDefinition(root.ToJsonString()), root.ContainsKey("version"), "");
    }

    /// <summary>
    /// The body of <c>POST /api/features</c>: a FeatureSet (<c>{"definitions":[...]}</c>; its revision is ignored) or
    /// one definition.
    /// </summary>
    public static IReadOnlyList<SubmittedDefinition> ParseMany(string body)
    {
        var root = ParseObject(body, "the body must be a feature set ({\"definitions\":[...]}) or one feature definition, a JSON object");
        if (!root.ContainsKey("definitions"))
        {
            return [new SubmittedDefinition(FeatureSet.ParseDefinition(root.ToJsonString()), root.ContainsKey("version"), "")];
        }

        var given = new List<bool>();
        if (root["definitions"] is JsonArray nodes)
        {
            foreach (var node in nodes)
            {
                given.Add(node is JsonObject o && o.ContainsKey("version"));
            }
        }

        var set = FeatureSet.Parse(root.ToJsonString());
        return [.. set.Definitions.Select((d, i) => new SubmittedDefinition(d, given[i], $"definitions[{i}]."))];
    }

    private static JsonObject ParseObject(string body, string shape)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(body, documentOptions: Lenient);
        }
        catch (JsonException ex)
        {
            throw new FeatureDefinitionException($"the body is not valid JSON at {ex.Path ?? "$"} (line {ex.LineNumber + 1}): {ex.Message}");
        }

        return node as JsonObject ?? throw new FeatureDefinitionException("$: " + shape);
    }
}
