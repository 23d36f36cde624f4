using System.Security.Claims;
using EdgeProfile.Hub.Operators;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace EdgeProfile.Hub.Ui;

/// <summary>Marks the UI's endpoints: they answer only on the UI's port, and nothing else does.</summary>
internal sealed class UiEndpointMarker
{
    public static readonly UiEndpointMarker Instance = new();
}

/// <summary>
/// The operator web UI in the hub's host: Blazor components rendered on the server (static SSR: plain HTML forms, no
/// WebSocket circuit), cookie sign-in against <see cref="OperatorAccounts"/>, antiforgery tokens on every form, and a
/// port of its own on the same Kestrel (<c>Hub:Ui:Url</c>).
/// </summary>
internal static class UiHosting
{
    /// <summary>The sign-in cookie scheme.</summary>
    public const string Scheme = "ep-ui";

    /// <summary>Whether <c>Hub:Ui:Url</c> turns the UI on.</summary>
    public static bool Enabled(IConfiguration configuration) => !string.IsNullOrWhiteSpace(configuration["Hub:Ui:Url"]);

    public static void AddHubUi(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton<UiEndpoint>();
        if (!Enabled(builder.Configuration))
        {
            return;
        }

        services.AddSingleton<UiApi>();
        services.AddSingleton<SignInThrottle>();
        services.AddScoped<UiLang>();
        services.AddHttpContextAccessor();
        services.AddRazorComponents();
        services.AddCascadingAuthenticationState();
        services.AddAuthorization();
        services.AddAuthentication(Scheme).AddCookie(Scheme, _ => { });
        services.AddOptions<CookieAuthenticationOptions>(Scheme).Configure<IOptions<HubOptions>>((cookie, hub) =>
        {
            cookie.Cookie.Name = "ep_session";
            cookie.Cookie.HttpOnly = true;
            cookie.Cookie.SameSite = SameSiteMode.Strict;
            cookie.Cookie.SecurePolicy = hub.Value.Ui.SecureCookies ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
            cookie.ExpireTimeSpan = hub.Value.Ui.SessionTimeout;
            cookie.SlidingExpiration = true;
            cookie.LoginPath = "/login";
            cookie.AccessDeniedPath = "/denied";
            cookie.Events.OnValidatePrincipal = RevalidateAsync;
        });
        services.AddAntiforgery();
        services.AddOptions<AntiforgeryOptions>().Configure<IOptions<HubOptions>>((anti, hub) =>
        {
            anti.Cookie.Name = "ep_csrf";
            anti.Cookie.SameSite = SameSiteMode.Strict;
            anti.Cookie.SecurePolicy = hub.Value.Ui.SecureCookies ? CookieSecurePolicy.Always : CookieSecurePolicy.SameAsRequest;
        });
    }

    /// <summary>The port gate, sign-in and antiforgery middleware (after routing, before the endpoints).</summary>
    public static void UseHubUi(this WebApplication app)
    {
        app.Use(GateAsync);
        if (!Enabled(app.Configuration))
        {
            return;
        }

        app.UseAuthentication();
        app.UseAuthorization();
        app.UseAntiforgery();
    }

    /// <summary>The pages and the UI's few non-page endpoints.</summary>
    public static void MapHubUi(this WebApplication app)
    {
        if (!Enabled(app.Configuration))
        {
            return;
        }

        app.MapRazorComponents<Components.App>().WithMetadata(UiEndpointMarker.Instance);

        app.MapGet("/ui/app.css", () => Results.Text(UiAssets.Css, "text/css; charset=utf-8")).WithMetadata(UiEndpointMarker.Instance).AllowAnonymous();
        app.MapGet("/ui/app.js", () => Results.Text(UiAssets.Js, "text/javascript; charset=utf-8")).WithMetadata(UiEndpointMarker.Instance).AllowAnonymous();

        app.MapGet("/lang/{code}", (string code, string? back, HttpContext context) =>
        {
            var lang = UiLang.Normalize(code) ?? UiLang.English;
            context.Response.Cookies.Append(UiLang.Cookie, lang, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Lax, MaxAge = TimeSpan.FromDays(365), IsEssential = true });
            return Results.LocalRedirect(IsLocal(back) ? back! : "/");
        }).WithMetadata(UiEndpointMarker.Instance).AllowAnonymous();

        app.MapPost("/logout", async (HttpContext context, IAntiforgery antiforgery) =>
        {
            if (!await antiforgery.IsRequestValidAsync(context).ConfigureAwait(false))
            {
                return Results.BadRequest("antiforgery token missing or invalid");
            }

            await context.SignOutAsync(Scheme).ConfigureAwait(false);
            return Results.LocalRedirect("/login");
        }).WithMetadata(UiEndpointMarker.Instance).DisableAntiforgery();

        // Validation as you type: the rule text goes to the API's validator (no change is made, nothing is logged).
        app.MapPost("/ui/rules/validate", async (HttpContext context, UiApi api) =>
        {
            if (context.Request.Headers["X-EdgeProfile-UI"] != "1")
            {
                return Results.BadRequest();
            }

            using var reader = new StreamReader(context.Request.Body);
            var text = await reader.ReadToEndAsync(context.RequestAborted).ConfigureAwait(false);
            var answer = await api.PostTextAsync("/api/rules/validate", text, context.User, context.RequestAborted).ConfigureAwait(false);
            return Results.Text(answer.Text, "application/json; charset=utf-8", statusCode: StatusCodes.Status200OK);
        }).WithMetadata(UiEndpointMarker.Instance).RequireAuthorization(p => p.RequireRole(OperatorRoles.Viewer, OperatorRoles.Operator, OperatorRoles.Admin)).DisableAntiforgery();

        // A segment's members as CSV, streamed from the API.
        app.MapGet("/ui/segments/{name}/members.csv", async (string name, HttpContext context, UiApi api) =>
        {
            var response = await api.GetStreamAsync($"/api/segments/{Uri.EscapeDataString(name)}/members.csv", context.User, context.RequestAborted).ConfigureAwait(false);
            context.Response.RegisterForDispose(response);
            if (!response.IsSuccessStatusCode)
            {
                return Results.Text(await response.Content.ReadAsStringAsync(context.RequestAborted).ConfigureAwait(false), "application/json", statusCode: (int)response.StatusCode);
            }

            var body = await response.Content.ReadAsStreamAsync(context.RequestAborted).ConfigureAwait(false);
            return Results.Stream(body, "text/csv; charset=utf-8", fileDownloadName: name + ".csv");
        }).WithMetadata(UiEndpointMarker.Instance).RequireAuthorization(p => p.RequireRole(OperatorRoles.Viewer, OperatorRoles.Operator, OperatorRoles.Admin));
    }

    /// <summary>A path of this site (no scheme, no host, no protocol-relative <c>//</c>).</summary>
    public static bool IsLocal(string? path) =>
        !string.IsNullOrEmpty(path) && path[0] == '/' && (path.Length == 1 || (path[1] != '/' && path[1] != '\\'));

    // The UI's port serves only the UI; the API's port serves no UI page.
    private static async Task GateAsync(HttpContext context, RequestDelegate next)
    {
        var port = context.RequestServices.GetRequiredService<UiEndpoint>().Port;
        var onUiPort = port > 0 && context.Connection.LocalPort == port;
        var uiEndpoint = context.GetEndpoint()?.Metadata.GetMetadata<UiEndpointMarker>() is not null;
        if (onUiPort != uiEndpoint)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        if (onUiPort)
        {
            var headers = context.Response.Headers;
            headers.XFrameOptions = "DENY";
            headers.XContentTypeOptions = "nosniff";
            headers["Referrer-Policy"] = "same-origin";
            headers.ContentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'";
        }

        if (!onUiPort)
        {
            await next(context).ConfigureAwait(false);
            return;
        }

        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (Exception ex) when (!context.Response.HasStarted && !context.RequestAborted.IsCancellationRequested)
        {
            // A page that fails says so in a page (and the hub's log has the details), never with an empty response.
            context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("EdgeProfile.Hub.Ui").LogError(ex, "UI page {Path} failed", context.Request.Path.Value);
            context.Response.Clear();
            context.Response.StatusCode = StatusCodes.Status500InternalServerError;
            context.Response.ContentType = "text/html; charset=utf-8";
            await context.Response.WriteAsync(
                "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>EdgeProfile</title><link rel=\"stylesheet\" href=\"/ui/app.css\"></head>" +
                "<body><main><h1>Something went wrong / 出错了</h1><p data-testid=\"ui-error\">This page failed; the hub's log has the details. " +
                "<a href=\"/\">Back to the fleet</a> · 页面出错，详情见中心日志。</p></main></body></html>", context.RequestAborted).ConfigureAwait(false);
        }
    }

    // A disabled account, or one whose role changed, is signed out at its next request.
    private static async Task RevalidateAsync(CookieValidatePrincipalContext context)
    {
        var name = context.Principal?.Identity?.Name;
        var accounts = context.HttpContext.RequestServices.GetRequiredService<OperatorAccounts>();
        var account = name is null ? null : await accounts.FindAsync(name, context.HttpContext.RequestAborted).ConfigureAwait(false);
        if (account is null || account.Disabled || account.Role != context.Principal!.FindFirst(ClaimTypes.Role)?.Value)
        {
            context.RejectPrincipal();
            await context.HttpContext.SignOutAsync(Scheme).ConfigureAwait(false);
        }
    }
}
