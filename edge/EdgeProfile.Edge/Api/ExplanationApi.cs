using System.Globalization;
using System.Text.Json.Nodes;
using EdgeProfile.Core.Customers;
using EdgeProfile.Core.Explanations;
using EdgeProfile.Core.Profiles;
using EdgeProfile.Edge.Log;
using EdgeProfile.Edge.Scoring;
using EdgeProfile.Edge.Uplink;
using EdgeProfile.Explanations;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EdgeProfile.Edge.Api;

/// <summary>
/// Why a customer was scored as they were (<c>GET /api/profiles/{key}/explanations</c>) and what a model version
/// relies on overall (<c>GET /api/models/{version}/importance</c>).
/// </summary>
public static class ExplanationApi
{
    /// <summary>Maps the two endpoints.</summary>
    public static IEndpointRouteBuilder MapExplanationApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);

        // The latest decision's explanation as stored with it (or, with ?at=, the decision in force then, from the
        // history), checked by recomputing it from the stored row with the archived model: `reproduced` says whether
        // the numbers agree. ?task= filters (a unique prefix will do: churn → churn_90d); ?lang= or Accept-Language
        // picks the reasons' language (en, zh-CN).
        app.MapGet("/api/profiles/{customerKey}/explanations", (string customerKey, string? task, string? label, string? lang, string? at,
            HttpRequest request, EdgeDatabase db, EdgeIdentity identity, IOptions<EdgeOptions> o, IServiceProvider sp) =>
        {
            if (!TryLanguage(lang, request, out var language, out var langError))
            {
                return Results.Json(new { error = langError }, statusCode: 400);
            }

            if (!CustomerKey.TryParse(Uri.UnescapeDataString(customerKey), out var key))
            {
                return Results.Json(new { error = $"'{customerKey}' is not a customer key (kind:value with kind one of {CustomerKey.KindList})" }, statusCode: 400);
            }

            long? atMs = null;
            if (at is not null)
            {
                if (!DateTimeOffset.TryParse(at, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var when))
                {
                    return Results.Json(new { error = $"at '{at}' is not a time (use RFC 3339, e.g. 2026-11-29T10:00:00Z)" }, statusCode: 400);
                }

                atMs = when.ToUnixTimeMilliseconds();
            }

            if (sp.GetService<ModelScoring>() is not { } scoring)
            {
                return Results.Json(new { error = "model scoring is off at this edge (set Edge:Models:File or Edge:HubUrl): there are no decisions to explain" }, statusCode: 404);
            }

            key = identity.Pseudonymizer.Canonical(key);
            var profile = ProfileStore.Find(db, key.ToString());
            if (profile is null)
            {
                return Results.Json(new { error = $"no customer {key} at store {o.Value.StoreId}" }, statusCode: 404);
            }

            var view = ProfileMath.View(profile, profile.LastSeen);
            using (var connection = db.OpenRead())
            {
                var consent = GlobalProfileStore.Find(connection, view.Identifiers.Prepend(view.CustomerKey))?.Consent;
                if (consent is { Analytics: true } or { Personalisation: true })
                {
                    return Results.Json(new { error = $"customer {key} withdrew {(consent.Analytics ? "analytics" : "personalisation")} consent: no scores or explanations are shown" }, statusCode: 403);
                }
            }

            DecisionExplanation? stored;
            long scoredAtMs;
            string scoresJson;
            if (atMs is { } t)
            {
                if (scoring.FindDecision(profile.CustomerKey, t) is not { } decision)
                {
                    return Results.Json(new { error = $"customer {key} has no decision at or before {at} in this edge's history" }, statusCode: 404);
                }

                (scoredAtMs, _, scoresJson, stored) = decision;
            }
            else
            {
                if (scoring.Find(profile.CustomerKey) is not { } latest)
                {
                    return Results.Json(new { error = $"customer {key} has not been scored yet" }, statusCode: 404);
                }

                scoredAtMs = latest.ScoredAtMs;
                scoresJson = latest.ValuesJson;
                stored = scoring.FindExplanation(profile.CustomerKey);
            }

            if (stored is null)
            {
                return Results.Json(new { error = $"the decision of {DateTimeOffset.FromUnixTimeMilliseconds(scoredAtMs):O} was not explained (Edge:Models:Explanations:Enabled was off, or its model cannot be explained)" }, statusCode: 404);
            }

            // Recompute from the stored row with the archived model: an audit gets the same numbers, or is told not.
            var served = Served(stored);
            var recomputed = scoring.WithExplainer(stored.Model, e => e.Explain(stored.Inputs, served));
            var difference = recomputed is null ? (double?)null : stored.Difference(recomputed);

            // The history keeps numbers only: its reasons are written again from them.
            var shown = stored.Outputs.Any(x => x.ReasonsEn is not null) || recomputed is null ? stored : recomputed;
            var outputs = ExplanationView.Outputs(shown, task, label, language);
            if (task is not null && outputs.Count == 0)
            {
                var tasks = string.Join(", ", stored.Outputs.Select(x => x.Task).Distinct(StringComparer.Ordinal));
                return Results.Json(new { error = $"no task '{task}' in model {stored.Model} (tasks: {tasks})" }, statusCode: 404);
            }

            var body = new JsonObject
            {
                ["storeId"] = o.Value.StoreId,
                ["customerKey"] = view.CustomerKey,
                ["lang"] = ReasonLanguages.Code(language),
                ["decision"] = new JsonObject
                {
                    ["scoredAt"] = DateTimeOffset.FromUnixTimeMilliseconds(scoredAtMs),
                    ["model"] = stored.Model,
                    ["scores"] = JsonNode.Parse(scoresJson),
                },
                ["method"] = stored.Method,
                ["function"] = stored.Function,
                ["background"] = stored.Background,
                ["inputs"] = new JsonObject([.. stored.Features.Select((f, i) => KeyValuePair.Create(f, (JsonNode?)JsonValue.Create(stored.Inputs[i])))]),
                ["explanations"] = outputs,
                ["reproduced"] = recomputed is null
                    ? new JsonObject { ["equal"] = null, ["note"] = scoring.ExplainProblem(stored.Model) ?? $"model {stored.Model} cannot be explained here" }
                    : new JsonObject { ["equal"] = difference == 0, ["maxDifference"] = difference },
            };
            return Results.Json(body);
        });

        // Global importance of a model version this edge served: mean |φ| per feature group over the model's background
        // rows, per output (computed once per version, kept in memory).
        app.MapGet("/api/models/{version}/importance", (string version, IServiceProvider sp) =>
        {
            if (sp.GetService<ModelScoring>() is not { } scoring)
            {
                return Results.Json(new { error = "model scoring is off at this edge" }, statusCode: 404);
            }

            var importance = Importance.GetOrAdd(version, v => new Lazy<JsonObject?>(() => scoring.WithExplainer(v, ExplanationView.Importance)));
            return importance.Value is { } json
                ? Results.Json(json)
                : Results.Json(new { error = scoring.ExplainProblem(version) ?? $"model {version} is unknown at this edge" }, statusCode: 404);
        });

        return app;
    }

    /// <summary>Per version: the importance document (null when the version cannot be explained).</summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<JsonObject?>> Importance = new(StringComparer.Ordinal);

    /// <summary>The language asked by <c>?lang=</c> (an unknown one is an error), else Accept-Language, else English.</summary>
    internal static bool TryLanguage(string? lang, HttpRequest request, out ReasonLanguage language, out string? error)
    {
        error = null;
        if (lang is not null)
        {
            if (ReasonLanguages.TryParse(lang, out language))
            {
                return true;
            }

            error = $"lang '{lang}' is not supported (use en or zh-CN)";
            return false;
        }

        language = ReasonLanguages.Parse(request.Headers.AcceptLanguage.ToString());
        return true;
    }

    private static float[]? Served(DecisionExplanation e) =>
        e.Outputs.All(x => x.Served is not null) ? [.. e.Outputs.Select(x => (float)x.Served!.Value)] : null;
}
