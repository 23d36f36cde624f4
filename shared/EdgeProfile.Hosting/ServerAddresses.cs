using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;

namespace EdgeProfile.Hosting;

/// <summary>Where a started host actually listens (resolves port 0 and wildcard binds to something callable).</summary>
public static class ServerAddresses
{
    /// <summary>
    /// The first HTTP address the started <paramref name="app"/> is bound to that <paramref name="accept"/> allows,
    /// with a wildcard host turned into 127.0.0.1. Unix sockets are skipped.
    /// </summary>
    public static Uri FirstBoundAddress(this WebApplication app, Func<Uri, bool>? accept = null)
    {
        ArgumentNullException.ThrowIfNull(app);
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses ?? [];
        foreach (var address in addresses)
        {
            if (address.Contains("unix:", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            var uri = new Uri(address.Replace("://+:", "://127.0.0.1:", StringComparison.Ordinal)
                .Replace("://*:", "://127.0.0.1:", StringComparison.Ordinal)
                .Replace("://[::]:", "://127.0.0.1:", StringComparison.Ordinal)
                .Replace("://0.0.0.0:", "://127.0.0.1:", StringComparison.Ordinal));
            if (accept is null || accept(uri))
            {
                return uri;
            }
        }

        throw new InvalidOperationException("The host is not listening yet; call StartAsync first.");
    }
}
