using System.Text;
using System.Text.Json;
using EdgeProfile.Hub.Segments;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;

namespace EdgeProfile.Hub.Api;

/// <summary>
/// Segments (audiences) over REST (operator token, like the rest of <c>/api</c>): <c>GET /api/segments</c>,
/// <c>GET|PUT|DELETE /api/segments/{name}</c> and <c>GET /api/segments/{name}/members.csv</c>. A bad name or
/// expression is a 400 naming the key (and, for an expression, the position), an unknown segment a 404.
/// </summary>
internal static class SegmentApi
{
    private const string BodyShape = "body must be JSON like {\"expression\": \"spend_30d >= 100 and has_tag(\\\"vip\\\")\", \"description\": \"...\"}";

    /// <summary>Maps the endpoints on the <c>/api</c> group.</summary>
    public static void Map(IEndpointRouteBuilder api)
    {
        api.MapGet("/segments", async (SegmentStore store, CancellationToken ct) =>
            Results.Json(await store.ListAsync(ct).ConfigureAwait(false)));

        api.MapGet("/segments/{name}", async (string name, SegmentStore store, CancellationToken ct) =>
            await store.GetAsync(name, ct).ConfigureAwait(false) is { } segment ? Results.Json(segment) : NotFound(name));

        api.MapPut("/segments/{name}", DefineAsync);

        api.MapDelete("/segments/{name}", async (string name, SegmentStore store, CancellationToken ct) =>
            await store.DeleteAsync(name, ct).ConfigureAwait(false) is { } deleted ? Results.Json(deleted) : NotFound(name));

        api.MapGet("/segments/{name}/members.csv", async (string name, SegmentStore store, CancellationToken ct) =>
        {
            if (await store.GetAsync(name, ct).ConfigureAwait(false) is null)
            {
                return NotFound(name);
            }

            // Written as the members are read, a page at a time: a large segment is never held in memory whole.
            return Results.Stream(async body =>
            {
                var writer = new StreamWriter(body, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false), bufferSize: 16 * 1024);
                await using (writer.ConfigureAwait(false))
                {
                    await SegmentCsv.WriteAsync(store.MembersAsync(name, ct), writer, ct).ConfigureAwait(false);
                }
            }, "text/csv; charset=utf-8", fileDownloadName: name + ".csv");
        });
    }

    private static async Task<IResult> DefineAsync(string name, HttpRequest request, SegmentStore store, ILogger<SegmentStore> logger, CancellationToken ct)
    {
        if (await ApiRequests.ReadJsonAsync<SegmentRequest>(request, ct).ConfigureAwait(false) is not { } body)
        {
            return Error(StatusCodes.Status400BadRequest, BodyShape);
        }

        try
        {
            var (segment, created) = await store.DefineAsync(name, body.Expression, body.Description, ct).ConfigureAwait(false);
            return Results.Json(segment, statusCode: created ? StatusCodes.Status201Created : StatusCodes.Status200OK);
        }
        catch (SegmentDefinitionException ex)
        {
            SegmentLog.Refused(logger, ex.Message);
            return Error(StatusCodes.Status400BadRequest, ex.Message);
        }
    }

    private static IResult NotFound(string name) =>
        Error(StatusCodes.Status404NotFound, $"no segment '{name}' (see GET /api/segments)");

    private static IResult Error(int status, string message) => ApiRequests.Error(status, message);
}
