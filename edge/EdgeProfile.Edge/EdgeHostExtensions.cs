using EdgeProfile.Edge.Api;
using EdgeProfile.Edge.Features;
using EdgeProfile.Edge.Ingest;
using EdgeProfile.Edge.Log;
using EdgeProfile.Edge.Scoring;
using EdgeProfile.Edge.Uplink;
using Microsoft.AspNetCore.Builder;
using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using MQTTnet.AspNetCore;
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
        services.AddSingleton<FeatureRuntime>();
        services.AddSingleton<LogWriter>();
        services.AddSingleton<IFeatureSetSink>(sp => sp.GetRequiredService<LogWriter>());
        services.AddSingleton<EventDecoder>();
        services.AddSingleton<IngestPipeline>();

        services.AddHostedService<EnrollmentStartup>();
        services.AddHostedService(sp => sp.GetRequiredService<LogWriter>());
        services.AddSingleton<WalCheckpointer>();
        services.AddHostedService(sp => sp.GetRequiredService<WalCheckpointer>());
        services.AddHostedService<UplinkService>();
        services.AddHostedService<DefinitionSubscriber>();
        services.AddSingleton<Rules.RuleRuntime>();
        services.AddHostedService<Rules.RuleSubscriber>();
        services.AddSingleton<Recommending.RecommenderHost>();
        services.AddHostedService<Recommending.RecommenderSubscriber>();
        services.AddHostedService<DownlinkSubscriber>();
        services.AddHostedService<EdgeProfile.Edge.Federation.FederationService>();

        // Model scoring runs with a model file (Edge:Models:File) or with a hub whose registry assigns models
        // (Edge:HubUrl, unless Edge:Models:FromHub is false). Otherwise nothing of it is registered: no model is loaded,
        // the writer marks nothing and profiles carry no scores.
        var fromHub = !string.IsNullOrWhiteSpace(builder.Configuration["Edge:HubUrl"])
            && !string.Equals(builder.Configuration["Edge:Models:FromHub"], "false", StringComparison.OrdinalIgnoreCase);
        if (!string.IsNullOrWhiteSpace(builder.Configuration["Edge:Models:File"]) || fromHub)
        {
            services.AddSingleton<ModelStore>();
            services.AddSingleton<ModelScoring>();
            services.AddHostedService<ScoringService>();
            services.AddHostedService<ModelSubscriber>();
        }

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

            // MQTTnet's broker without its own listener: Kestrel accepts the MQTT connections (see Listen below).
            var maxPending = int.TryParse(builder.Configuration["Edge:Mqtt:MaxPendingPerClient"], out var n) ? n : new EdgeOptions().Mqtt.MaxPendingPerClient;
            services.AddHostedMqttServer(o => o.WithoutDefaultEndpoint().WithMaxPendingMessagesPerClient(maxPending).WithPersistentSessions());
            services.AddMqttConnectionHandler();
            services.AddConnections();
        }

        var config = builder.Configuration;
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            var urls = config["Edge:Http:Urls"];
            foreach (var url in (string.IsNullOrWhiteSpace(urls) ? new EdgeOptions().Http.Urls : urls).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                // Malformed values are left to the options validator, which names the key.
                if (Uri.TryCreate(url, UriKind.Absolute, out var uri) && uri.Scheme == Uri.UriSchemeHttp && uri.Port is >= 0 and <= 65535)
                {
                    Listen(kestrel, uri.Host, uri.Port, _ => { });
                }
            }

            if (!external
                && int.TryParse(config["Edge:Mqtt:Port"] ?? "1883", out var mqttPort) && mqttPort is > 0 and <= 65535
                && IPAddress.TryParse(config["Edge:Mqtt:Bind"] ?? "127.0.0.1", out var bind))
            {
                kestrel.Listen(bind, mqttPort, l => l.UseMqtt());
            }
        });
        return builder;
    }

    private static void Listen(KestrelServerOptions kestrel, string host, int port, Action<ListenOptions> configure)
    {
        if (host is "localhost")
        {
            kestrel.ListenLocalhost(port, configure);
        }
        else if (host is "*" or "+" or "0.0.0.0" or "[::]")
        {
            kestrel.ListenAnyIP(port, configure);
        }
        else if (IPAddress.TryParse(host.Trim('[', ']'), out var ip))
        {
            kestrel.Listen(ip, port, configure);
        }
        else
        {
            kestrel.ListenAnyIP(port, configure);
        }
    }

    /// <summary>Maps the local API.</summary>
    public static WebApplication MapEdge(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.MapEdgeApi();
        return app;
    }
}
