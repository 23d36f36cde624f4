using Microsoft.Extensions.Options;

namespace EdgeProfile.Hub;

/// <summary>Checks <see cref="HubOptions"/> at start; every failure names its key.</summary>
internal sealed class HubOptionsValidator : IValidateOptions<HubOptions>
{
    internal const int MinOperatorTokenLength = 16;
    private static readonly TimeSpan MaxTokenTtl = TimeSpan.FromDays(365);

    public ValidateOptionsResult Validate(string? name, HubOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>(options.BindingErrors);

        if (string.IsNullOrWhiteSpace(options.DataDir))
        {
            failures.Add("Hub:DataDir is required (a directory for hub.db and the hub's keys)");
        }
        else if (options.DataDir.IndexOfAny(Path.GetInvalidPathChars()) >= 0)
        {
            failures.Add($"Hub:DataDir '{options.DataDir}' is not a valid path");
        }

        var storage = options.Storage?.Trim() ?? "";
        if (string.Equals(storage, HubOptions.PostgresStorage, StringComparison.OrdinalIgnoreCase))
        {
            if (string.IsNullOrWhiteSpace(options.ConnectionString))
            {
                failures.Add("Hub:ConnectionString is required when Hub:Storage is 'postgres' (e.g. Host=localhost;Database=edgeprofile;Username=hub;Password=...)");
            }
            else
            {
                try
                {
                    _ = new Npgsql.NpgsqlConnectionStringBuilder(options.ConnectionString);
                }
                catch (ArgumentException ex)
                {
                    failures.Add($"Hub:ConnectionString is not a valid PostgreSQL connection string: {ex.Message}");
                }
            }
        }
        else if (!string.Equals(storage, HubOptions.SqliteStorage, StringComparison.OrdinalIgnoreCase))
        {
            failures.Add($"Hub:Storage: '{options.Storage}' is not a known storage; use 'sqlite' or 'postgres'");
        }

        if (!string.IsNullOrEmpty(options.OperatorToken))
        {
            if (options.OperatorToken.Length < MinOperatorTokenLength || options.OperatorToken.Any(char.IsWhiteSpace))
            {
                failures.Add($"Hub:OperatorToken must be at least {MinOperatorTokenLength} characters without spaces (or empty to generate one)");
            }
        }

        if (options.EnrollmentTokenTtl <= TimeSpan.Zero || options.EnrollmentTokenTtl > MaxTokenTtl)
        {
            failures.Add($"Hub:EnrollmentTokenTtl must be more than 0 and at most 365 days (got '{options.EnrollmentTokenTtl}'; e.g. 24:00:00)");
        }

        if (options.ProfileCacheEntries < 0)
        {
            failures.Add($"Hub:ProfileCacheEntries must be 0 (no cache) or more (got {options.ProfileCacheEntries})");
        }

        if (!string.IsNullOrWhiteSpace(options.Ui.Url) && Ui.UiEndpoint.ParseUrl(options.Ui.Url) is null)
        {
            failures.Add($"Hub:Ui:Url '{options.Ui.Url}' is not an http:// or https:// URL with a port (e.g. http://127.0.0.1:8070; empty: no UI)");
        }

        if (options.Ui.SessionTimeout < TimeSpan.FromMinutes(1) || options.Ui.SessionTimeout > TimeSpan.FromDays(30))
        {
            failures.Add($"Hub:Ui:SessionTimeout must be between 1 minute and 30 days (got '{options.Ui.SessionTimeout}'; e.g. 08:00:00)");
        }

        failures.AddRange(options.Identity.Validate("Hub:Identity"));
        failures.AddRange(Profiles.MergePolicies.Validate(options.Profiles.Merge));

        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
