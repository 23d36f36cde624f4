using EdgeProfile.Core.Customers;
using EdgeProfile.Core.Features;
using EdgeProfile.Core.Profiles;
using EdgeProfile.Edge.Features;
using EdgeProfile.Edge.Ingest;
using EdgeProfile.Edge.Log;
using EdgeProfile.Edge.Scoring;
using EdgeProfile.Edge.Uplink;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

using V1 = EdgeProfile.Contracts.V1;

namespace EdgeProfile.Edge.Api;

/// <summary>The local HTTP API of contracts.md §3, for store apps; needs no WAN.</summary>
public static class EdgeApi
{
    /// <summary>Maps <c>/api/health</c>, <c>/api/stats</c>, <c>/api/profiles/{key}</c> and <c>/api/deadletters</c>.</summary>
    public static IEndpointRouteBuilder MapEdgeApi(this IEndpointRouteBuilder app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapGet("/api/health", (IOptions<EdgeOptions> o, UplinkStatus uplink, EdgeIdentity identity, IServiceProvider sp) =>
        {
            var external = sp.GetService<ExternalBrokerService>();
            return Results.Json(new
            {
                status = "ok",
                storeId = o.Value.StoreId,
                mqtt = new { mode = o.Value.Mqtt.IsExternal ? "external" : "embedded", port = o.Value.Mqtt.Port, connected = external?.Connected ?? true },
                hub = new
                {
                    url = string.IsNullOrEmpty(o.Value.HubUrl) ? null : o.Value.HubUrl,
                    enrolled = identity.Enrolled,
                    connected = uplink.Connected,
                    ackedThrough = uplink.AckedThrough,
                    lastAckAt = uplink.LastAckAt,
                    lastError = uplink.LastError,
                },
            });
        });

        app.MapGet("/api/stats", (EdgeStats s, FeatureRuntime features, IOptions<EdgeOptions> o, IServiceProvider sp) =>
        {
            var scoring = sp.GetService<ModelScoring>();
            var oldest = s.OldestOutboxUnixMs;
            return Results.Json(new
            {
                storeId = o.Value.StoreId,
                eventsStored = s.EventsStored,
                duplicatesIgnored = s.DuplicatesIgnored,
                deadLettered = s.DeadLettered,
                lateEvents = s.LateEvents,
                eventsSuppressed = s.EventsSuppressed,
                outbox = new
                {
                    backlog = s.OutboxBacklog,
                    oldestAgeSeconds = oldest == 0 ? 0 : Math.Max(0, (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - oldest) / 1000.0),
                    bytes = s.OutboxBytes,
                    budgetBytes = o.Value.Uplink.DiskBudgetMb * 1024 * 1024,
                    overflowCustomers = s.OverflowCustomers,
                },
                features = new
                {
                    revision = features.AppliedRevision,
                    definitions = features.Engine.Set.Definitions.Count,
                    backfillPending = features.BackfillPending,
                    backfilling = features.BackfillDefinitions,
                    watermark = features.Engine.Watermarks.Current is var wm && wm > DateTimeOffset.MinValue.ToUnixTimeMilliseconds() ? DateTimeOffset.FromUnixTimeMilliseconds(wm) : (DateTimeOffset?)null,
                },
                runtime = new
                {
                    // The agent's garbage collector, for latency diagnosis (a young collection stops ingest).
                    gcCollections = new[] { GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2) },
                    gcPauseTotalMs = Math.Round(GC.GetTotalPauseDuration().TotalMilliseconds, 1),
                    heapBytes = GC.GetTotalMemory(false),
                    allocatedBytes = GC.GetTotalAllocatedBytes(),
                    threadPoolThreads = ThreadPool.ThreadCount,
                    lastGc = GC.GetGCMemoryInfo(GCKind.Any) is { Index: > 0 } gc
                        ? new
                        {
                            index = gc.Index,
                            generation = gc.Generation,
                            pauseMs = Math.Round(gc.PauseDurations[0].TotalMilliseconds + gc.PauseDurations[1].TotalMilliseconds, 1),
                            promotedBytes = gc.PromotedBytes,
                            heapBytes = gc.HeapSizeBytes,
                        }
                        : null,
                },
                modelVersion = scoring?.Version,
                scoringPending = scoring?.Pending,
                rules = sp.GetService<Rules.RuleRuntime>() is { } rules
                    ? new
                    {
                        version = rules.Version,
                        count = rules.Rules.Count,
                        ids = rules.Rules.Select(r => r.Id).ToList(),
                        problem = rules.Problem,
                        uplinked = sp.GetService<Log.LogWriter>()?.RulesUplinkedVersion ?? -1,
                    }
                    : null,
            });
        });

        app.MapGet("/api/profiles/{*customerKey}", (string customerKey, string? asOf, string? lang, HttpRequest request, EdgeDatabase db, EdgeIdentity identity, FeatureRuntime features, TimeProvider clock, IOptions<EdgeOptions> o, IServiceProvider sp) =>
        {
            if (!CustomerKey.TryParse(Uri.UnescapeDataString(customerKey), out var key))
            {
                return Results.Json(new { error = $"'{customerKey}' is not a customer key (kind:value with kind one of {CustomerKey.KindList})" }, statusCode: 400);
            }

            DateTimeOffset at = clock.GetUtcNow();
            if (asOf is not null && !DateTimeOffset.TryParse(asOf, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out at))
            {
                return Results.Json(new { error = $"asOf '{asOf}' is not a time (use RFC 3339, e.g. 2026-11-29T10:00:00Z)" }, statusCode: 400);
            }

            key = identity.Pseudonymizer.Canonical(key);
            var profile = ProfileStore.Find(db, key.ToString());
            if (profile is null)
            {
                return Results.Json(new { error = $"no customer {key} at store {o.Value.StoreId}" }, statusCode: 404);
            }

            var engine = features.Engine;
            var asOfMs = at.ToUnixTimeMilliseconds();
            var readings = features.Read(db, profile.CustomerKey, asOfMs) ?? engine.Read(new CustomerState(profile.CustomerKey), asOfMs);
            var view = ProfileMath.View(profile, at > profile.LastSeen || asOf is not null ? at : profile.LastSeen);
            var tags = view.Tags.ToList();
            V1.GlobalSummary? global;
            using (var connection = db.OpenRead())
            {
                global = GlobalProfileStore.Find(connection, view.Identifiers.Prepend(view.CustomerKey));
            }

            // The customer's consent, as the hub last pushed it: withdrawn purposes are not served here either.
            var noAnalytics = global?.Consent?.Analytics == true;
            var noPersonalisation = global?.Consent?.Personalisation == true;
            var globalReasons = noPersonalisation ? [] : GlobalReasons(global, o.Value.StoreId);
            if (noPersonalisation)
            {
                globalReasons.Add(("personalisation consent withdrawn: no tags, interests or affinities are shown", "顾客已撤回个性化授权：不展示标签、兴趣和偏好"));
            }

            if (noAnalytics)
            {
                globalReasons.Add(("analytics consent withdrawn: no feature values are shown", "顾客已撤回分析授权：不展示特征值"));
            }

            var affinity = FeatureViews.Affinity(engine.Set, readings);
            if (affinity is not null)
            {
                tags.AddRange(InterestTags.From(affinity));
            }

            // The operators' tag rules, on the features as of now: each tag names its rule as the reason, and
            // `ruleTags` answers why (the rule and the facts it rested on).
            var fired = sp.GetService<Rules.RuleRuntime>()?.Fired(profile.CustomerKey, readings) ?? [];
            tags.AddRange(fired.Select(f => f.Tag));

            if (noPersonalisation)
            {
                tags.Clear();
                affinity = null;
            }

            var body = new
            {
                storeId = o.Value.StoreId,
                customerKey = view.CustomerKey,
                identifiers = view.Identifiers,
                asOf = at,
                features = noAnalytics ? [] : readings.Select(r => FeatureViews.View(r, asOfMs)),
                consent = new
                {
                    analytics = !noAnalytics,
                    personalisation = !noPersonalisation,
                    training = global?.Consent?.Training != true,
                },
                categoryAffinities = affinity?.Value.Ranking?.Select(r => new { category = r.Value, weight = r.Weight, share = Math.Round(r.Share, 4) }) ?? [],
                featureSet = new { revision = features.AppliedRevision, definitions = engine.Set.Definitions.Count, backfillPending = features.BackfillPending },
                summary = new
                {
                    visits7d = view.Visits7d,
                    visits30d = view.Visits30d,
                    spend7d = view.Spend7d,
                    spend30d = view.Spend30d,
                    eventsTotal = view.EventsTotal,
                    lastCategory = view.LastCategory,
                    lastChannel = view.LastChannel,
                    channels = view.Channels,
                },
                firstSeen = view.FirstSeen,
                lastSeen = view.LastSeen,
                tags = tags.Select(t => new { name = t.Name, reason = t.Reason, reasonZh = t.ReasonZh }),
                ruleTags = noPersonalisation ? [] : fired.Select(f => new
                {
                    tag = f.Rule.Tag,
                    rule = f.Rule.RuleId,
                    ruleVersion = f.Rule.RuleVersion,
                    rulesVersion = f.RulesVersion,
                    en = f.Rule.En,
                    zh = f.Rule.Zh,
                    premises = f.Rule.Premises,
                }).ToList(),
                global = global is null ? null : new
                {
                    profileId = global.ProfileId,
                    identifiers = global.Identifiers,
                    channels = global.Channels,
                    stores = global.Stores,
                    tags = noPersonalisation ? [] : global.Tags.ToList(),
                    searches = global.Searches.Where(_ => !noPersonalisation).Select(x => new
                    {
                        storeId = x.StoreId,
                        text = x.Search.Text,
                        at = DateTimeOffset.FromUnixTimeMilliseconds(x.Search.AtUnixMs),
                        channel = x.Search.Channel,
                    }),
                    lastSeen = global.LastSeenUnixMs > 0 ? DateTimeOffset.FromUnixTimeMilliseconds(global.LastSeenUnixMs) : (DateTimeOffset?)null,
                    lastCategory = global.LastCategory.Length == 0 ? null : global.LastCategory,
                    visits30d = global.Visits30D,
                    spend30d = global.Spend30D,
                    updatedAt = DateTimeOffset.FromUnixTimeMilliseconds(global.UpdatedAtUnixMs),
                    reasons = globalReasons.Select(r => r.En),
                    reasonsZh = globalReasons.Select(r => r.Zh),
                },
                scores = Array.Empty<object>(),
                reasons = tags.Select(t => $"{t.Name}: {t.Reason}").Concat(globalReasons.Select(r => r.En)),
            };

            // Scores exist with a model (Edge:Models:File): one entry per task with the model version that produced
            // it. Empty without a model, before the first scoring, and when the customer withdrew analytics or
            // personalisation consent.
            if (sp.GetService<ModelScoring>() is not { } scoring
                || noAnalytics || noPersonalisation || scoring.Find(profile.CustomerKey) is not { } found)
            {
                return Results.Json(body);
            }

            var json = sp.GetRequiredService<IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
            var node = JsonSerializer.SerializeToNode(body, json)!.AsObject();
            var entries = found.ToJson();
            if (!ExplanationApi.TryLanguage(lang, request, out var language, out _))
            {
                language = Core.Explanations.ReasonLanguage.En;
            }

            if (scoring.FindExplanation(profile.CustomerKey) is { } explanation && explanation.Model == found.ModelVersion)
            {
                // Why, beside each score: the top reasons in the language asked, from the explanation stored with it.
                var texts = Explanations.ExplanationView.ReasonTexts(explanation, language);
                foreach (var entry in entries.OfType<JsonObject>())
                {
                    if (entry["task"]?.GetValue<string>() is { } name && texts.TryGetValue(name, out var reasons))
                    {
                        entry["reasons"] = new JsonArray([.. reasons.Select(r => (JsonNode?)JsonValue.Create(r))]);
                    }
                }

                node["explanation"] = new JsonObject
                {
                    ["method"] = explanation.Method,
                    ["background"] = explanation.Background,
                    ["lang"] = Core.Explanations.ReasonLanguages.Code(language),
                    ["details"] = $"/api/profiles/{Uri.EscapeDataString(view.CustomerKey)}/explanations",
                };
            }

            node["scores"] = entries;
            return Results.Json(node, json);
        });

        // The serving model, the one a rollback returns to, and what happened to every candidate (deploys, refusals
        // with the canary's reason, rollbacks), newest first.
        app.MapGet("/api/models", (IServiceProvider sp) =>
        {
            if (sp.GetService<ModelScoring>() is not { } scoring)
            {
                return Results.Json(new { serving = (object?)null, previous = (object?)null, history = Array.Empty<object>(), note = "model scoring is off: set Edge:Models:File or Edge:HubUrl" });
            }

            static object? Describe(Models.Serving.ServedModel? m) => m is null ? null : new
            {
                version = m.Version,
                deployedAt = m.DeployedAt,
                features = m.Features,
                tasks = m.Outputs.Select(o => new { name = o.Name, width = o.Width }),
            };

            var host = scoring.Host;
            return Results.Json(new
            {
                serving = Describe(host.Current),
                previous = Describe(host.Previous),
                startedFrom = scoring.StartSource,
                startProblem = scoring.StartProblem,
                history = host.History.Reverse().Select(h => new { at = h.At, @event = h.Event.ToString().ToLowerInvariant(), version = h.Version, message = h.Message }),
            });
        });

        app.MapExplanationApi();
        app.MapRecommendationApi();
        app.MapGet("/api/deadletters", (int? limit, EdgeDatabase db) =>
        {
            var n = Math.Clamp(limit ?? 50, 1, 1000);
            return Results.Json(DeadLetterReader.Newest(db, n));
        });

        return app;
    }

    /// <summary>What the hub's global view adds for this store, in English and Chinese: other channels and stores, searches elsewhere.</summary>
    private static List<(string En, string Zh)> GlobalReasons(V1.GlobalSummary? global, string storeId)
    {
        var reasons = new List<(string En, string Zh)>();
        if (global is null)
        {
            return reasons;
        }

        var others = global.Stores.Where(s => s != storeId).ToList();
        if (others.Count > 0)
        {
            reasons.Add(($"one customer across {string.Join(", ", global.Channels)} (hub profile {global.ProfileId}, also seen at {string.Join(", ", others)})",
                $"同一顾客跨渠道：{string.Join("、", global.Channels)}（总部档案 {global.ProfileId}，也出现在 {string.Join("、", others)}）"));
        }

        foreach (var s in global.Searches.Where(x => x.StoreId != storeId).Take(3))
        {
            var at = DateTimeOffset.FromUnixTimeMilliseconds(s.Search.AtUnixMs).ToString("yyyy-MM-dd HH:mm", System.Globalization.CultureInfo.InvariantCulture);
            reasons.Add(($"online interest: searched \"{s.Search.Text}\" via {s.Search.Channel} at {s.StoreId}, {at} UTC",
                $"线上兴趣：{at} UTC 在 {s.StoreId}（{s.Search.Channel}）搜索过“{s.Search.Text}”"));
        }

        return reasons;
    }
}
