using EdgeProfile.Edge.Api;
using EdgeProfile.Edge.Ingest;
using EdgeProfile.Edge.Log;
using EdgeProfile.Edge.Uplink;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EdgeProfile.Edge;

/// <summary>Composes the edge agent.</summary>
public static class EdgeHostExtensions
{
    /// <summary>
    /// Registers the edge: options (validated at start), database, log writer, uplink, the MQTT side for the
    /// configured mode, and the local API's URLs. Hosted services start in this order and stop in reverse, so
    /// ingest stops before the writer drains.
    /// </summary>
    public static WebApplicationBuilder AddEdge(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<EdgeOptions>().BindConfiguration(EdgeOptions.Section).ValidateOnStart();
        services.AddSingleton<IValidateOptions<EdgeOptions>, EdgeOptionsValidator>();
        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<EdgeIdentity>();
        services.AddSingleton<EdgeStats>();
        services.AddSingleton<OutboxSignal>();
        services.AddSingleton<UplinkStatus>();
        services.AddSingleton<EdgeDatabase>();
        services.AddSingleton<LogWriter>();
        services.AddSingleton<IngestPipeline>();

        services.AddHostedService<EnrollmentStartup>();
        services.AddHostedService(sp => sp.GetRequiredService<LogWriter>());
        services.AddHostedService<UplinkService>();

        var external = string.Equals(builder.Configuration["Edge:Mqtt:Mode"], "external", StringComparison.OrdinalIgnoreCase);
        if (external)
        {
            services.AddSingleton<ExternalBrokerService>();
            services.AddHostedService(sp => sp.GetRequiredService<ExternalBrokerService>());
        }
        else
        {
            services.AddSingleton<EmbeddedBrokerService>();
            services.AddHostedService(sp => sp.GetRequiredService<EmbeddedBrokerService>());
        }

        var urls = builder.Configuration["Edge:Http:Urls"];
        builder.WebHost.UseUrls(string.IsNullOrWhiteSpace(urls) ? new EdgeOptions().Http.Urls : urls);
        return builder;
    }

    /// <summary>Maps the local API.</summary>
    public static WebApplication MapEdge(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapEdgeApi();
        return app;
    }
}
