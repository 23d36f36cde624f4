using System.Text.Json;
using EdgeProfile.Hub.Knowledge;
using EdgeProfile.Knowledge.Graph;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;

namespace EdgeProfile.Hub.Api;

/// <summary>
/// The knowledge graph over REST (operator token): <c>POST /api/graph/query</c> (<c>{"query": "MATCH …"}</c> or the query
/// as text; 400 naming the position of a syntax error), <c>POST /api/graph/import/taxonomy</c> and
/// <c>POST /api/graph/import/knowledge</c> (the file as the body), <c>GET /api/graph/stats</c> (triples, and the
/// interest observations from the stores' deltas: recorded, repeated, unmatched, dropped).
/// </summary>
internal static class GraphApi
{
    private const int MaxImportBytes = 64 * 1024 * 1024;

    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapPost("/graph/query", async (HttpRequest request, GraphService graph, CancellationToken ct) =>
        {
            var body = await ReadAsync(request, 1024 * 1024, ct).ConfigureAwait(false);
            var text = body;
            if (body.TrimStart().StartsWith('{'))
            {
                try
                {
                    using var doc = JsonDocument.Parse(body);
                    text = doc.RootElement.TryGetProperty("query", out var q) ? q.GetString() ?? "" : "";
                }
                catch (JsonException ex)
                {
                    return ApiRequests.Error(StatusCodes.Status400BadRequest, $"the body must be {{\"query\": \"MATCH …\"}} or the query as text: {ex.Message}");
                }
            }

            if (string.IsNullOrWhiteSpace(text))
            {
                return ApiRequests.Error(StatusCodes.Status400BadRequest, "no query: send {\"query\": \"MATCH (c:Category)-[:SUBCLASS_OF*]->(:Category {name:'Baby & Toddler'}) RETURN c.name LIMIT 10\"}");
            }

            try
            {
                return Results.Json(await graph.QueryAsync(text, ct).ConfigureAwait(false));
            }
            catch (GraphQuerySyntaxException ex)
            {
                return Results.Json(new { error = ex.Message, position = ex.Position }, statusCode: StatusCodes.Status400BadRequest);
            }
        });

        api.MapPost("/graph/import/taxonomy", async (HttpRequest request, GraphService graph, CancellationToken ct) =>
        {
            try
            {
                var result = await graph.ImportTaxonomyAsync(await ReadAsync(request, MaxImportBytes, ct).ConfigureAwait(false), ct).ConfigureAwait(false);
                return Results.Json(new { categories = result.Categories, maxDepth = result.MaxDepth, triplesAdded = result.TriplesAdded, elapsedMs = result.Elapsed.TotalMilliseconds });
            }
            catch (FormatException ex)
            {
                return ApiRequests.Error(StatusCodes.Status400BadRequest, $"not a taxonomy file: {ex.Message}");
            }
        });

        api.MapPost("/graph/import/knowledge", async (HttpRequest request, GraphService graph, CancellationToken ct) =>
        {
            try
            {
                var result = await graph.ImportKnowledgeAsync(await ReadAsync(request, MaxImportBytes, ct).ConfigureAwait(false), ct).ConfigureAwait(false);
                return Results.Json(new { statements = result.Statements, triplesAdded = result.TriplesAdded, namesResolvedToCategories = result.NamesResolvedToCategories });
            }
            catch (FormatException ex)
            {
                return ApiRequests.Error(StatusCodes.Status400BadRequest, ex.Message);
            }
        });

        api.MapGet("/graph/stats", async (GraphService graph, InterestFeed interests, CancellationToken ct) =>
            Results.Json(new
            {
                triples = await graph.CountAsync(ct).ConfigureAwait(false),
                interests = new { recorded = interests.Recorded, repeated = interests.Repeated, unmatched = interests.Unmatched, dropped = interests.Dropped },
            }));
    }

    private static async Task<string> ReadAsync(HttpRequest request, int max, CancellationToken ct)
    {
        if (request.HttpContext.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = max;
        }

        using var reader = new StreamReader(request.Body, System.Text.Encoding.UTF8);
        return await reader.ReadToEndAsync(ct).ConfigureAwait(false);
    }
}
