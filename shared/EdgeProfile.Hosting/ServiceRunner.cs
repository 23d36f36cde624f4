using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace EdgeProfile.Hosting;

/// <summary>Runs a service host and turns configuration mistakes into one line on stderr and exit code 2.</summary>
public static class ServiceRunner
{
    /// <summary>Builds and runs the app until it stops; returns the process exit code.</summary>
    public static async Task<int> RunAsync(string name, Func<WebApplication> build, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(build);
        try
        {
            await using var app = build();
            await app.StartAsync(cancellationToken).ConfigureAwait(false);
            await app.WaitForShutdownAsync(cancellationToken).ConfigureAwait(false);
            return 0;
        }
        catch (Exception ex) when (Describe(ex) is { } message)
        {
            await Console.Error.WriteLineAsync($"{name}: {message}").ConfigureAwait(false);
            return 2;
        }
    }

    /// <summary>The one-line reason for a start-up failure caused by configuration, or null for anything else.</summary>
    public static string? Describe(Exception ex) => ex switch
    {
        ConfigurationException c => c.Message,
        OptionsValidationException o => string.Join("; ", o.Failures),
        AggregateException a when a.InnerExceptions.Count == 1 => Describe(a.InnerExceptions[0]),
        // The configuration binder names the key: "Failed to convert configuration value 'abc' at 'Edge:Mqtt:Port' to type
        // 'System.Int32'." (older binders left the value out: "configuration value at 'Edge:Mqtt:Port'").
        InvalidOperationException i when i.Message.StartsWith("Failed to convert configuration value", StringComparison.Ordinal) => i.Message,
        IOException io when io.Message.Contains("address already in use", StringComparison.OrdinalIgnoreCase) =>
            $"{io.Message} (an edge's HTTP address is Edge:Http:Urls, a hub's is --urls)",
        _ => null,
    };
}
