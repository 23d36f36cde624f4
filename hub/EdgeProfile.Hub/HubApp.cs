using EdgeProfile.Hosting;
using EdgeProfile.Hub.Storage;
using EdgeProfile.Hub.Ui;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeProfile.Hub;

/// <summary>The hub as one call, for the <c>edgeprofile-hub</c> executable, the CLI (<c>hub run</c>, <c>demo</c>) and tests.</summary>
public static class HubApp
{
    /// <summary>Where the hub listens when neither <c>--urls</c> nor ASPNETCORE_URLS (nor Kestrel endpoints) say otherwise.</summary>
    public const string DefaultUrl = "http://127.0.0.1:8080";

    /// <summary>
    /// Builds (does not start) the hub. <paramref name="args"/> are host arguments: <c>--urls http://127.0.0.1:8080</c>,
    /// <c>--Hub:DataDir=...</c>, etc. REST and gRPC share each URL. <paramref name="configure"/> runs after the hub's
    /// own registrations, so it can replace services (e.g. <see cref="TimeProvider"/>) or logging.
    /// Start it with <c>StartAsync</c>/<c>RunAsync</c>, wrapped in <see cref="StartupValidation.RunValidatedAsync"/>
    /// to turn bad settings into a <see cref="ConfigurationException"/> naming the key.
    /// </summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        // appsettings.json is read from beside the binary, as for the edge, not from the working directory.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });
        builder.AddServiceDefaults(); // first: it adds the EDGEPROFILE_CONFIG file, which may set the URLs
        var explicitUrls = HasExplicitUrls(builder.Configuration);
        if (!explicitUrls)
        {
            builder.WebHost.UseUrls(DefaultUrl);
        }

        // The operator web UI listens on a port of its own, appended last (UiEndpoint relies on the order).
        var urls = explicitUrls ? builder.Configuration[WebHostDefaults.ServerUrlsKey] : DefaultUrl;
        if (Ui.UiEndpoint.ParseUrl(builder.Configuration["Hub:Ui:Url"]) is not null && !string.IsNullOrWhiteSpace(urls) &&
            !builder.Configuration.GetSection("Kestrel:Endpoints").Exists())
        {
            builder.WebHost.UseUrls(urls.TrimEnd(';') + ";" + builder.Configuration["Hub:Ui:Url"]!.Trim());
        }

        builder.AddHub();
        configure?.Invoke(builder);

        var app = builder.Build();
        app.MapHub();
        return app;
    }

    /// <summary>The first address the started hub's API listens on (not the UI's), with the real port when it was started on port 0.</summary>
    public static Uri BoundAddress(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var ui = app.UiAddress();
        return app.FirstBoundAddress(u => ui is null || u.Port != ui.Port);
    }

    /// <summary>
    /// The operator token of the started hub: Hub:OperatorToken when set, else the content of
    /// <c>{DataDir}/operator.token</c> (created at first start).
    /// </summary>
    public static string OperatorToken(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.Services.GetRequiredService<HubSecrets>().OperatorToken;
    }

    /// <summary>The hub's data directory, resolved to a full path.</summary>
    public static string DataDirectory(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        return app.Services.GetRequiredService<HubPaths>().DataDir;
    }

    private static bool HasExplicitUrls(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration[WebHostDefaults.ServerUrlsKey]) ||
        !string.IsNullOrWhiteSpace(configuration[WebHostDefaults.HttpPortsKey]) ||
        !string.IsNullOrWhiteSpace(configuration[WebHostDefaults.HttpsPortsKey]) ||
        configuration.GetSection("Kestrel:Endpoints").Exists();
}
