using System.Globalization;
using EdgeProfile.Hub.Features;
using EdgeProfile.Hub.Rules;
using EdgeProfile.Knowledge;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace EdgeProfile.Hub.Api;

/// <summary>
/// Tag rules over REST (operator token): <c>GET /api/rules</c> (the live set and every version), <c>POST
/// /api/rules/validate</c>, <c>POST /api/rules/publish</c> (the rule file as the body; 400 with every error at its line)
/// and <c>POST /api/rules/rollback</c> (409 with nothing to roll back to). Published sets stream to every edge, with
/// the knowledge-graph facts of the predicates the rules read but do not define appended.
/// </summary>
internal static partial class RuleApi
{
    /// <summary>Largest rule file accepted.</summary>
    public const int MaxRuleFileBytes = 1024 * 1024;

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapGet("/rules", async (RuleRegistry registry, RuleDeliveries deliveries, CancellationToken ct) =>
        {
            var current = registry.Current;
            var history = await registry.HistoryAsync(ct).ConfigureAwait(false);
            return Results.Json(new
            {
                version = current.Version,
                publishedAt = current.Version == 0 ? (DateTimeOffset?)null : DateTimeOffset.FromUnixTimeMilliseconds(current.PublishedAtMs),
                action = current.Action,
                rules = current.Rules,
                text = current.Text,
                history = history.Select(h => new { version = h.Version, publishedAt = DateTimeOffset.FromUnixTimeMilliseconds(h.PublishedAtMs), action = h.Action, rules = h.Rules }),
                stores = deliveries.Snapshot(),
            });
        });

        api.MapPost("/rules/validate", async (HttpRequest request, DefinitionRegistry features, CancellationToken ct) =>
        {
            if (await ReadTextAsync(request, ct).ConfigureAwait(false) is not { } text)
            {
                return TooLarge();
            }

            var compiled = TagRuleSet.Compile(text, KnownFeatures(features), out var errors);
            return compiled is null
                ? Rejected(errors)
                : Results.Json(new { valid = true, rules = compiled.Rules.Select(r => new { id = r.Id, version = r.Version, en = r.En, zh = r.Zh, line = r.Line }) });
        });

        api.MapPost("/rules/publish", async (HttpRequest request, RuleRegistry registry, DefinitionRegistry features, Knowledge.GraphService graph,
            ILogger<RuleRegistry> logger, CancellationToken ct) =>
        {
            if (await ReadTextAsync(request, ct).ConfigureAwait(false) is not { } text)
            {
                return TooLarge();
            }

            // Knowledge the rules read but do not define comes from the graph, appended to the published text.
            text = WithoutGraphFacts(text);
            if (TagRuleSet.Compile(text, KnownFeatures(features), out var errors) is not { } compiled)
            {
                return Rejected(errors);
            }

            if (compiled.ExternalPredicates.Count > 0)
            {
                if (await graph.RuleFactsAsync(compiled.ExternalPredicates, MaxGraphFacts, ct).ConfigureAwait(false) is not { } facts)
                {
                    return ApiRequests.Error(StatusCodes.Status400BadRequest, string.Create(CultureInfo.InvariantCulture,
                        $"the rules read {string.Join(", ", compiled.ExternalPredicates.Select(p => p.Predicate + "/" + p.Arity))} from the knowledge graph, which holds more than {MaxGraphFacts} such facts; the live rules are unchanged"));
                }

                if (facts.Count > 0)
                {
                    text = text.TrimEnd() + "\n\n" + GraphFactsMarker + string.Create(CultureInfo.InvariantCulture,
                        $" {facts.Count} fact(s) of {string.Join(", ", compiled.ExternalPredicates.Select(p => p.Predicate))}, added at publish\n") + string.Join('\n', facts) + "\n";
                }
            }

            try
            {
                var published = await registry.PublishAsync(text, KnownFeatures(features), ct).ConfigureAwait(false);
                LogPublished(logger, published.Version, published.Rules);
                return Results.Json(Describe(published), statusCode: StatusCodes.Status201Created);
            }
            catch (RuleSetRejectedException ex)
            {
                return Rejected(ex.Errors);
            }
        });

        api.MapPost("/rules/rollback", async (RuleRegistry registry, ILogger<RuleRegistry> logger, CancellationToken ct) =>
        {
            if (await registry.RollbackAsync(ct).ConfigureAwait(false) is not { } rolledBack)
            {
                return ApiRequests.Error(StatusCodes.Status409Conflict, "there is no earlier rule set to roll back to");
            }

            LogRolledBack(logger, rolledBack.Version, rolledBack.Action);
            return Results.Json(Describe(rolledBack));
        });
    }

    /// <summary>The feature names rules may read: the registry's current definitions.</summary>
    private static HashSet<string> KnownFeatures(DefinitionRegistry features) =>
        [.. features.Current.Set.Definitions.Select(d => d.Name)];

    private static object Describe(RuleSnapshot s) => new
    {
        version = s.Version,
        publishedAt = DateTimeOffset.FromUnixTimeMilliseconds(s.PublishedAtMs),
        action = s.Action,
        rules = s.Rules,
    };

    private static IResult Rejected(IReadOnlyList<TagRuleError> errors) => Results.Json(new
    {
        error = $"the rule set does not compile ({errors.Count} error(s)); the live rules are unchanged: {string.Join("; ", errors.Take(5))}",
        errors = errors.Select(e => new { line = e.Line, column = e.Column, message = e.Message }),
    }, statusCode: StatusCodes.Status400BadRequest);

    private static IResult TooLarge() =>
        ApiRequests.Error(StatusCodes.Status413PayloadTooLarge, $"a rule file may be at most {MaxRuleFileBytes / 1024} KiB");

    /// <summary>Most knowledge-graph facts a published rule set may carry to the stores.</summary>
    public const int MaxGraphFacts = 20_000;

    /// <summary>The line before the facts the hub appends; a republished text loses everything from it on.</summary>
    public const string GraphFactsMarker = "# --- knowledge graph facts:";

    private static string WithoutGraphFacts(string text)
    {
        var at = text.IndexOf(GraphFactsMarker, StringComparison.Ordinal);
        return at < 0 ? text : text[..at];
    }

    private static async Task<string?> ReadTextAsync(HttpRequest request, CancellationToken ct)
    {
        if (request.ContentLength is > MaxRuleFileBytes)
        {
            return null;
        }

        using var reader = new StreamReader(request.Body, System.Text.Encoding.UTF8);
        var text = await reader.ReadToEndAsync(ct).ConfigureAwait(false);
        return text.Length > MaxRuleFileBytes ? null : text;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Tag rules version {Version} published ({Rules} rules)")]
    private static partial void LogPublished(ILogger logger, long version, int rules);

    [LoggerMessage(Level = LogLevel.Information, Message = "Tag rules version {Version} published by rollback ({Action})")]
    private static partial void LogRolledBack(ILogger logger, long version, string action);
}
