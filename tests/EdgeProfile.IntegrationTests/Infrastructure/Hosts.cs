using Microsoft.AspNetCore.Builder;

namespace EdgeProfile.IntegrationTests.Infrastructure;

/// <summary>Shared lifecycle of the in-process hosts (hub, edge).</summary>
internal static class Hosts
{
    /// <summary>A graceful stop bounded by 30 s, then dispose the app and the client that talked to it.</summary>
    public static async Task StopAndDisposeAsync(WebApplication app, IDisposable client)
    {
        try
        {
            using var cts = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            await app.StopAsync(cts.Token);
        }
        finally
        {
            await app.DisposeAsync();
            client.Dispose();
        }
    }
}
