using Microsoft.Extensions.Hosting;

namespace EdgeProfile.Hub.Models;

/// <summary>Loads the deployment history at start (after the hub's initializer opened the database), before any store watches it.</summary>
internal sealed class ModelRegistryInitializer(ModelRegistry registry) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken) => registry.RefreshAsync(cancellationToken);

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
