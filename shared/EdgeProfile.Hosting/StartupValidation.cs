using Microsoft.Extensions.Options;

namespace EdgeProfile.Hosting;

/// <summary>Turns an options validation failure into a one-line message naming the configuration keys.</summary>
public static class StartupValidation
{
    /// <summary>
    /// Runs <paramref name="start"/>; if options validation fails, throws <see cref="ConfigurationException"/> with
    /// the failures joined on one line (each names its key, e.g. "Edge:StoreId is required").
    /// </summary>
    public static async Task RunValidatedAsync(Func<Task> start)
    {
        ArgumentNullException.ThrowIfNull(start);
        try
        {
            await start().ConfigureAwait(false);
        }
        catch (OptionsValidationException ex)
        {
            throw new ConfigurationException(string.Join("; ", ex.Failures));
        }
    }
}
