using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace EdgeProfile.Hub.Operators;

/// <summary>
/// Logs every change made through the REST API: any authorised <c>/api</c> request other than GET/HEAD and the two
/// read-only POSTs (rule validation, graph queries), with its answer's status. The actor is the web UI's signed-in user
/// (the UI sends <see cref="ActorHeader"/> with the operator token) or <c>operator-token</c> (the CLI, scripts).
/// </summary>
internal static partial class AuditMiddleware
{
    /// <summary>Names the person behind an operator-token request (the UI's signed-in user).</summary>
    public const string ActorHeader = "X-EdgeProfile-Actor";

    /// <summary>The actor of a request without <see cref="ActorHeader"/>.</summary>
    public const string TokenActor = "operator-token";

    private static readonly string[] ReadOnlyPosts = ["/api/rules/validate", "/api/graph/query"];

    /// <summary>The middleware; runs after the operator check, so only authorised requests are logged.</summary>
    public static async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var request = context.Request;
        if (!IsChange(request))
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        var failed = false;
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch
        {
            failed = true;
            throw;
        }
        finally
        {
            var status = failed ? StatusCodes.Status500InternalServerError : context.Response.StatusCode;
            var actor = request.Headers[ActorHeader].ToString();
            actor = string.IsNullOrWhiteSpace(actor) ? TokenActor : actor.Trim();
            var path = request.Path.Value ?? "";
            var (action, target) = Describe(context, path);
            var detail = status >= 400 ? "refused" : "done";
            try
            {
                await context.RequestServices.GetRequiredService<AuditLog>()
                    .AppendAsync(actor, action, target, status, detail, CancellationToken.None).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                LogFailed(context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("EdgeProfile.Hub.Audit"), ex, request.Method, path);
            }
        }
    }

    /// <summary>
    /// The logged action and target. A customer key never enters the log: requests on a customer (consent, ...) are
    /// logged by route template, and the customer by a keyed hash of the canonical key (pseudonymous, and unlinkable
    /// once the customer is erased everywhere else).
    /// </summary>
    private static (string Action, string Target) Describe(HttpContext context, string path)
    {
        var method = context.Request.Method;
        if (context.Request.RouteValues.TryGetValue("customerKey", out var value) && value is string key &&
            context.GetEndpoint() is Microsoft.AspNetCore.Routing.RouteEndpoint { RoutePattern.RawText: { } template })
        {
            var secrets = context.RequestServices.GetRequiredService<Storage.HubSecrets>();
            var canonical = Api.ApiRequests.CustomerKeyOf(key, secrets, out var text) ?? text;
            return ($"{method} {template}", "customer " + secrets.Pseudonymizer.Hash("audit", canonical)[..16]);
        }

        return ($"{method} {path}", path.Length > 5 ? Uri.UnescapeDataString(path[5..]) : "");
    }

    private static bool IsChange(HttpRequest request) =>
        request.Path.StartsWithSegments("/api") &&
        !HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method) && !HttpMethods.IsOptions(request.Method) &&
        !ReadOnlyPosts.Any(p => request.Path.Equals(p, StringComparison.OrdinalIgnoreCase));

    [LoggerMessage(Level = LogLevel.Error, Message = "Audit: could not log {Method} {Path}")]
    private static partial void LogFailed(ILogger logger, Exception exception, string method, string path);
}
