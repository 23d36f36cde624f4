using EdgeProfile.Hub.Api;
using EdgeProfile.Hub.Downlink;
using EdgeProfile.Hub.Enrollment;
using EdgeProfile.Hub.Features;
using EdgeProfile.Hub.Hosting;
using EdgeProfile.Hub.Profiles;
using EdgeProfile.Hub.Segments;
using EdgeProfile.Hub.Storage;
using EdgeProfile.Hub.Ui;
using EdgeProfile.Hub.Uplink;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace EdgeProfile.Hub;

/// <summary>Composes the hub into an ASP.NET Core host: <see cref="AddHub"/> for services, <see cref="MapHub"/> for endpoints.</summary>
public static class HubHostingExtensions
{
    /// <summary>Largest accepted gRPC message (a batch of ~10k deltas fits).</summary>
    public const int MaxMessageBytes = 16 * 1024 * 1024;

    /// <summary>
    /// Binds and validates <see cref="HubOptions"/> (section <c>Hub</c>, checked at start), registers storage,
    /// enrollment, uplink, profile and feature-registry services, gRPC with store authentication, and one-port HTTP/1.1 + h2c.
    /// </summary>
    public static WebApplicationBuilder AddHub(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;

        services.AddOptions<HubOptions>()
            .Configure<IConfiguration>((options, configuration) => Bind(configuration.GetSection(HubOptions.SectionName), options))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<HubOptions>, HubOptionsValidator>();

        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<HubPaths>();
        services.AddSingleton<HubDatabase>();
        services.AddSingleton<HubChanges>();
        services.AddSingleton<HubSecrets>();
        services.AddSingleton<StoreRegistry>();
        services.AddSingleton<DeltaWriter>();
        services.AddSingleton(sp => new MergePolicies(sp.GetRequiredService<IOptions<HubOptions>>().Value.Profiles.Merge));
        services.AddSingleton<ProfileReader>();
        services.AddSingleton<ProfileCache>();
        services.AddSingleton<HubIdentity>();
        services.AddSingleton<DownlinkQueue>();
        services.AddSingleton<EdgeProfile.Hub.Erasure.ErasureService>();
        services.AddSingleton<EdgeProfile.Hub.Consent.ConsentStore>();
        services.AddSingleton<SegmentIndex>();
        services.AddSingleton<SegmentStore>();
        services.AddSingleton<IdentityAdmin>();
        services.AddSingleton<StoreAuthInterceptor>();
        services.AddHostedService<HubInitializer>();
        services.AddSingleton<DefinitionRegistry>();
        services.AddHostedService<DefinitionRegistryInitializer>(); // after HubInitializer: needs the open database
        services.AddSingleton<EdgeProfile.Hub.Models.ModelRegistry>();
        services.AddHostedService<EdgeProfile.Hub.Models.ModelRegistryInitializer>();
        services.AddSingleton<EdgeProfile.Hub.Explanations.ModelImportance>();
        services.AddHostedService(sp => sp.GetRequiredService<EdgeProfile.Hub.Explanations.ModelImportance>());
        services.AddSingleton<EdgeProfile.Hub.Rules.RuleRegistry>();
        services.AddSingleton<EdgeProfile.Hub.Rules.RuleDeliveries>();
        services.AddSingleton<EdgeProfile.Hub.Knowledge.GraphService>();
        services.AddSingleton<EdgeProfile.Hub.Knowledge.InterestFeed>();
        services.AddHostedService(sp => sp.GetRequiredService<EdgeProfile.Hub.Knowledge.InterestFeed>());
        services.AddHostedService<EdgeProfile.Hub.Rules.RuleRegistryInitializer>();
        services.AddSingleton<EdgeProfile.Hub.Recommending.RecommenderRegistry>();
        services.AddHostedService<EdgeProfile.Hub.Recommending.RecommenderRegistryInitializer>();
        services.AddSingleton<EdgeProfile.Hub.Recommending.CustomerVectors>();
        services.AddHostedService(sp => sp.GetRequiredService<EdgeProfile.Hub.Recommending.CustomerVectors>());
        services.AddSingleton<EdgeProfile.Hub.Federation.FederationStore>();
        services.AddSingleton<EdgeProfile.Hub.Federation.ParticipantDirectory>();
        services.AddSingleton<EdgeProfile.Hub.Federation.FederatedRunner>();
        services.AddHostedService(sp => sp.GetRequiredService<EdgeProfile.Hub.Federation.FederatedRunner>());
        services.AddSingleton<EdgeProfile.Hub.Operators.OperatorAccounts>();
        services.AddSingleton<EdgeProfile.Hub.Operators.AuditLog>();
        services.AddHostedService<EdgeProfile.Hub.Hosting.HubChangeListener>(); // PostgreSQL: the other replicas' changes
        services.AddHostedService<PostgresStatistics>(); // PostgreSQL: planner statistics while tables grow fast

        services.AddGrpc(options =>
        {
            options.Interceptors.Add<StoreAuthInterceptor>();
            options.MaxReceiveMessageSize = MaxMessageBytes;
        });

        builder.WebHost.ConfigureKestrel(H2cPriorKnowledge.Configure);
        builder.AddHubUi();
        return builder;
    }

    /// <summary>Maps the gRPC services (enrollment, uplink, feature registry) and the REST API on the same endpoints.</summary>
    public static WebApplication MapHub(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        app.Use(H2cPriorKnowledge.GuardRequest);
        app.Use(HubApi.CatchErrorsAsync);
        app.UseHubUi();
        app.Use(HubApi.RequireOperatorAsync);
        app.Use(EdgeProfile.Hub.Operators.AuditMiddleware.InvokeAsync);
        app.MapGrpcService<EnrollmentService>();
        app.MapGrpcService<UplinkService>();
        app.MapGrpcService<FeatureRegistryService>();
        app.MapGrpcService<DownlinkService>();
        app.MapGrpcService<OperatorProfilesService>();
        app.MapGrpcService<EdgeProfile.Hub.Models.ModelDistributionService>();
        app.MapGrpcService<EdgeProfile.Hub.Federation.FederationService>();
        app.MapGrpcService<EdgeProfile.Hub.Rules.RuleRegistryService>();
        app.MapGrpcService<EdgeProfile.Hub.Recommending.RecommenderDistributionService>();
        HubApi.Map(app);
        app.MapHubUi();
        return app;
    }

    private static void Bind(IConfigurationSection section, HubOptions options)
    {
        try
        {
            section.Bind(options);
        }
        catch (InvalidOperationException ex)
        {
            // e.g. "Failed to convert configuration value 'x' at 'Hub:EnrollmentTokenTtl' to type 'System.TimeSpan'."
            options.BindingErrors.Add(ex.Message);
        }
    }
}
