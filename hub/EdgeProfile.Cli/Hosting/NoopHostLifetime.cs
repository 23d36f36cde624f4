using Microsoft.Extensions.Hosting;

namespace EdgeProfile.Cli.Hosting;

/// <summary>
/// A host lifetime that does not listen to Ctrl-C or SIGTERM: the demo runs several hosts in one process and stops
/// them itself, edges first, then the hub.
/// </summary>
internal sealed class NoopHostLifetime : IHostLifetime
{
    public Task WaitForStartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
