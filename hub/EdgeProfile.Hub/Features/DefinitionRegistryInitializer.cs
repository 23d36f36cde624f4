using EdgeProfile.Core.Features;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace EdgeProfile.Hub.Features;

/// <summary>
/// Seeds the registry with <see cref="DefaultFeatures.Set"/> at the first start of a data directory and loads the
/// current set. Registered after the hub's initializer, which opens the database; hosted services start before the
/// server accepts calls, so no edge sees an empty registry.
/// </summary>
internal sealed class DefinitionRegistryInitializer : IHostedService
{
    private readonly DefinitionRegistry _registry;
    private readonly ILogger<DefinitionRegistry> _logger;

    public DefinitionRegistryInitializer(DefinitionRegistry registry, ILogger<DefinitionRegistry> logger)
    {
        _registry = registry;
        _logger = logger;
    }

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (await _registry.InitializeAsync(DefaultFeatures.Set, cancellationToken).ConfigureAwait(false))
        {
            FeatureLog.Seeded(_logger, DefaultFeatures.Set.Definitions.Count);
        }

        var current = _registry.Current;
        FeatureLog.Loaded(_logger, current.Revision, current.Set.Definitions.Count);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
