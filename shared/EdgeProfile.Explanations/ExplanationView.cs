using System.Globalization;
using System.Text.Json.Nodes;
using EdgeProfile.Core.Explanations;

namespace EdgeProfile.Explanations;

/// <summary>How explanations are shown by the APIs (edge and hub alike).</summary>
public static class ExplanationView
{
    /// <summary>
    /// The outputs of <paramref name="explanation"/> for <paramref name="task"/> (all when null; a unique prefix such as
    /// <c>churn</c> matches <c>churn_90d</c>), each with its attributions sorted by |φ| and its reasons in
    /// <paramref name="language"/>; a multi-label task shows only its outputs that have reasons (its top label) unless
    /// <paramref name="label"/> names one.
    /// </summary>
    public static JsonArray Outputs(DecisionExplanation explanation, string? task, string? label, ReasonLanguage language)
    {
        ArgumentNullException.ThrowIfNull(explanation);
        var list = new JsonArray();
        var outputs = explanation.For(task, label);
        foreach (var o in outputs)
        {
            if (o.Label is not null && label is null && o.ReasonsEn is null && o.ReasonsZh is null && outputs.Any(x => x.ReasonsEn is not null))
            {
                continue;
            }

            var attributions = new JsonArray();
            foreach (var g in Enumerable.Range(0, o.Phi.Length).OrderByDescending(g => Math.Abs(o.Phi[g])).ThenBy(g => explanation.Groups[g].Name, StringComparer.Ordinal))
            {
                var a = new JsonObject
                {
                    ["group"] = explanation.Groups[g].Name,
                    ["phi"] = o.Phi[g],
                    ["features"] = new JsonArray([.. explanation.Groups[g].Features.Select(f => (JsonNode?)JsonValue.Create(f))]),
                };
                if (o.StandardErrors is { } se)
                {
                    a["standardError"] = se[g];
                }

                attributions.Add(a);
            }

            list.Add(new JsonObject
            {
                ["task"] = o.Task,
                ["label"] = o.Label,
                ["score"] = o.Served,
                ["output"] = o.Output,
                ["base"] = o.Base,
                ["additivityError"] = o.AdditivityError,
                ["surrogateFit"] = o.SurrogateFit,
                ["attributions"] = attributions,
                ["reasons"] = Reasons(o.Reasons(language)),
            });
        }

        return list;
    }

    /// <summary>Reasons as JSON objects: text, code, kind, weight, direction, source, evidence.</summary>
    public static JsonArray Reasons(IReadOnlyList<Reason> reasons)
    {
        ArgumentNullException.ThrowIfNull(reasons);
        return new JsonArray([.. reasons.Select(r => (JsonNode?)System.Text.Json.JsonSerializer.SerializeToNode(r, DecisionExplanation.Json))]);
    }

    /// <summary>The one-line texts of the top reasons of each task (what a profile shows beside its scores), by task.</summary>
    public static Dictionary<string, List<string>> ReasonTexts(DecisionExplanation explanation, ReasonLanguage language)
    {
        ArgumentNullException.ThrowIfNull(explanation);
        var byTask = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        foreach (var o in explanation.Outputs)
        {
            var reasons = o.Reasons(language);
            if (reasons.Count > 0)
            {
                byTask[o.Task] = [.. reasons.Select(r => r.Text)];
            }
        }

        return byTask;
    }

    /// <summary>The importance document of an explainer's model (the same shape at the edge and the hub).</summary>
    public static JsonObject Importance(ModelExplainer explainer)
    {
        ArgumentNullException.ThrowIfNull(explainer);
        var values = explainer.Importance();
        var outputs = new JsonArray();
        var names = explainer.Outputs;
        for (int o = 0; o < values.Length; o++)
        {
            var groups = new JsonArray();
            foreach (var g in Enumerable.Range(0, values[o].Length).OrderByDescending(g => values[o][g]).ThenBy(g => explainer.Groups.Names[g], StringComparer.Ordinal))
            {
                groups.Add(new JsonObject
                {
                    ["group"] = explainer.Groups.Names[g],
                    ["meanAbsPhi"] = values[o][g],
                    ["features"] = new JsonArray([.. explainer.Groups.Members[g].Select(i => (JsonNode?)JsonValue.Create(explainer.Features[i]))]),
                });
            }

            outputs.Add(new JsonObject { ["task"] = names[o].Task, ["label"] = names[o].Label, ["groups"] = groups });
        }

        return new JsonObject
        {
            ["model"] = explainer.Version,
            ["method"] = explainer.Method == Models.Explaining.AttributionMethod.ExactShapley ? "exact_shapley" : "kernel_shap",
            ["statistic"] = string.Create(CultureInfo.InvariantCulture, $"mean |phi| over the model's {explainer.Background.Count} background rows"),
            ["background"] = $"{explainer.Background.Source} ({explainer.Background.Count} rows)",
            ["function"] = explainer.FunctionDescription,
            ["outputs"] = outputs,
        };
    }
}
